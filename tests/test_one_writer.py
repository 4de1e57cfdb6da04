"""One writer at a time, in behaviour: two real runs started at once on one data directory
(as a schedule and a sensor can launch them), watched from the operating system.

Their processes (dbt's included) never hold the lake or the warehouse open for writing at
the same moment, every step seen writing runs in the warehouse pool, and Dagster's own
record shows the pooled steps of the two runs one after the other.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from dagster import DagsterInstance, ExecuteInProcessResult

from orchestration.definitions import defs
from orchestration.resources import WAREHOUSE_POOL
from orchestration.runner import DAGSTER_YAML
from orchestration.settings import REPO_ROOT
from tests.browser import stop
from tests.conftest import copy_platform, resend
from tests.writers import (
    overlapping_writes,
    pools_of,
    step_windows,
    steps_that_wrote,
    watch_writers,
    writers_outside_the_pool,
)

pytestmark = pytest.mark.slow


def test_two_runs_at_once_never_write_together(
    sample_raw_dir: Path,
    sample_build: tuple[Path, ExecuteInProcessResult],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    raw, data = copy_platform(sample_raw_dir, sample_build[0], tmp_path)
    resend(raw, -3)  # something for the runs to land (the first to get there)
    outcomes = [tmp_path / f"run-{n}.json" for n in range(2)]
    # The instance exists before its runs (as `make dev`'s does): two processes creating
    # Dagster's storage at the same moment race on its schema, which is not what this tests.
    home = data / "dagster_home"
    home.mkdir()
    shutil.copyfile(DAGSTER_YAML, home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))  # where its event log lives
    DagsterInstance.from_config(str(home)).dispose()

    roots: list[int] = []
    logs = [tmp_path / f"run-{n}.log" for n in range(2)]
    runs: list[subprocess.Popen[bytes]] = []
    try:
        with watch_writers(roots, data) as writes:
            for out, log in zip(outcomes, logs, strict=True):
                with log.open("wb") as output:
                    runs.append(
                        subprocess.Popen(
                            [sys.executable, "-m", "tests.one_run", str(raw), str(data), str(out)],
                            cwd=REPO_ROOT,
                            start_new_session=True,
                            stdout=output,
                            stderr=subprocess.STDOUT,
                        )
                    )
                roots.append(runs[-1].pid)
            for run in runs:
                run.wait(timeout=900)
    finally:
        for run in runs:
            stop(run, grace=5)  # whatever is left of a run that failed or hung
    outputs = [log.read_text()[-2000:] for log in logs]
    assert [run.returncode for run in runs] == [0, 0], outputs

    assert overlapping_writes(writes) == []
    pools = pools_of(defs().assets or [])
    pooled_windows = []
    with DagsterInstance.from_config(str(home)) as instance:
        for run, out in zip(runs, outcomes, strict=True):
            windows = step_windows(instance, json.loads(out.read_text())["run_id"])
            wrote = steps_that_wrote([w for w in writes if w.root == run.pid], windows)
            # Seen from outside: the watcher caught this run's dbt writing the warehouse.
            assert "dongne_dbt_models" in wrote, wrote
            assert writers_outside_the_pool(wrote, pools, WAREHOUSE_POOL) == []
            pooled_windows.append(
                [w for step, w in windows.items() if pools.get(step) == WAREHOUSE_POOL]
            )
    # Dagster's record agrees: no pooled step of one run ran while one of the other did.
    first, second = pooled_windows
    assert first and second
    assert not [(a, b) for a in first for b in second if a[0] < b[1] and b[0] < a[1]]
