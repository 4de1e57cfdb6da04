"""dbt's unit tests (the SQL logic on hand-made rows: event time, the 1,800 s boundary,
growth-accounting classes, retention weeks, experiment windows, incident windows, label
ties, the 72-hour window). Builds skip them (they check SQL, not data); they run here."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from dagster import ExecuteInProcessResult

from orchestration.dbt_cli import dbt_environment, dbt_executable, target_dir
from orchestration.settings import DBT_PROJECT_DIR
from tests.conftest import copy_build, settings_for


def test_every_dbt_unit_test_passes(
    sample_raw_dir: Path, sample_build: tuple[Path, ExecuteInProcessResult], tmp_path: Path
) -> None:
    built, _ = sample_build
    settings = settings_for(sample_raw_dir, copy_build(built, tmp_path / "data"))
    env = {**os.environ, **dbt_environment(settings)}
    tested = subprocess.run(
        [
            dbt_executable(),
            "test",
            "--select",
            "test_type:unit",
            "--project-dir",
            str(DBT_PROJECT_DIR),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert tested.returncode == 0, tested.stdout[-3000:]
    results = json.loads((target_dir(settings) / "run_results.json").read_text())["results"]
    unit_tests = [r for r in results if r["unique_id"].startswith("unit_test.")]
    assert len(unit_tests) >= 10
    assert {r["status"] for r in unit_tests} == {"pass"}
