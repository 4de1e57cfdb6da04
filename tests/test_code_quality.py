"""House rules CI enforces: ruff-clean Python, every dbt model documented in yml."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from orchestration.settings import DBT_PROJECT_DIR, REPO_ROOT, load_settings

RUFF = str(Path(sys.executable).parent / "ruff")
PYTHON_FOLDERS = ["orchestration", "dongne_sample", "bench", "tests"]


def test_python_is_ruff_clean() -> None:
    checked = subprocess.run(
        [RUFF, "check", *PYTHON_FOLDERS],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout
    formatted = subprocess.run(
        [RUFF, "format", "--check", *PYTHON_FOLDERS],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert formatted.returncode == 0, formatted.stdout


def test_sql_is_sqlfluff_clean(tmp_path: Path) -> None:
    # The dbt templater opens the warehouse: on a clean clone there is no ./data, so
    # it gets a scratch one (and never touches a developer's real warehouse).
    settings = load_settings({"DONGNE_DATA_DIR": str(tmp_path / "data")})
    settings.tmp_dir.mkdir(parents=True, exist_ok=True)
    linted = subprocess.run(
        [
            str(Path(sys.executable).parent / "sqlfluff"),
            "lint",
            "models",
            "tests",
            "macros",
            "--disable-progress-bar",
        ],
        cwd=DBT_PROJECT_DIR,
        env={**os.environ, **settings.dbt_env()},
        capture_output=True,
        text=True,
        check=False,
    )
    assert linted.returncode == 0, linted.stdout[-4000:] + linted.stderr[-2000:]


def test_every_dbt_model_has_a_yml_entry() -> None:
    documented = set()
    for yml in (DBT_PROJECT_DIR / "models").rglob("*.yml"):
        documented |= set(re.findall(r"^\s*- name: (\w+)\s*$", yml.read_text(), re.MULTILINE))
    models = {path.stem for path in (DBT_PROJECT_DIR / "models").rglob("*.sql")}
    assert models - documented == set()
