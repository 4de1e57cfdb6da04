"""dbt's unit tests (the SQL logic on hand-made rows: event time, the 1,800 s boundary,
incremental sessions, growth-accounting classes, retention weeks, experiment windows,
incident windows, label ties, the 72-hour window, first versions, complete days, anomaly
bands, the dashboards' ratios and decisions). Builds skip them (they check SQL, not
data); they run here."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from dagster import ExecuteInProcessResult

from orchestration.dbt_cli import dbt_environment
from orchestration.settings import DBT_PROJECT_DIR, Settings, venv_tool
from tests.conftest import copy_build, settings_for


def unit_test_results(
    settings: Settings, executable: str, target: Path | None = None
) -> list[dict[str, Any]]:
    """Run every dbt unit test with `executable` (dbt, or dongne-dbt-spark) on the engine
    `settings` names; the results of the unit tests, after asserting that dbt passed."""
    env = {**os.environ, **dbt_environment(settings)}
    if target is not None:
        env.update(DBT_TARGET_PATH=str(target), DBT_LOG_PATH=str(target / "logs"))
    tested = subprocess.run(
        [executable, "test", "--select", "test_type:unit", "--project-dir", str(DBT_PROJECT_DIR)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert tested.returncode == 0, tested.stdout[-3000:]
    results_path = Path(env["DBT_TARGET_PATH"]) / "run_results.json"
    results = json.loads(results_path.read_text())["results"]
    return [r for r in results if r["unique_id"].startswith("unit_test.")]


def test_every_dbt_unit_test_passes(
    sample_raw_dir: Path, sample_build: tuple[Path, ExecuteInProcessResult], tmp_path: Path
) -> None:
    built, _ = sample_build
    settings = settings_for(sample_raw_dir, copy_build(built, tmp_path / "data"))
    unit_tests = unit_test_results(settings, venv_tool("dbt"))
    assert len(unit_tests) == 20  # each one counted: none may go missing unnoticed
    assert {r["status"] for r in unit_tests} == {"pass"}
