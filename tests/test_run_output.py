"""What a newcomer sees: `make run` on the shipped sample, as its own process, prints one
line per stage and the summary once, under 60 lines, with the full log in a file; it says
nothing about freshness whatever the date (here: a year after the sample)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from orchestration.landing import DB_TABLES, REFERENCE_TABLES
from orchestration.settings import REPO_ROOT, VENV_BIN

STAGES = [
    *[f"land {source}" for source in sorted(["events", *DB_TABLES, *REFERENCE_TABLES])],
    "dbt build: models, snapshots and tests",
    "publish analytics.duckdb",
    "train the moderation classifier",
]
NOISE = ("BetaWarning", "MetadataValue(", " - dagster - ", "START", "Traceback", "[pip]")


@dataclass
class Run:
    returncode: int
    stdout: list[str]
    stderr: list[str]
    data: Path


@pytest.fixture(scope="module")
def shipped_sample_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    data = tmp_path_factory.mktemp("make_run") / "data"
    env = {key: value for key, value in os.environ.items() if not key.startswith("DONGNE_")}
    env.update(DONGNE_DATA_DIR=str(data), DONGNE_TODAY="2027-11-23")
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    ran = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "build"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return Run(ran.returncode, ran.stdout.splitlines(), ran.stderr.splitlines(), data)


def test_make_run_prints_under_60_lines_ending_with_the_summary(shipped_sample_run: Run) -> None:
    run = shipped_sample_run
    assert run.returncode == 0, "\n".join(run.stdout + run.stderr)
    output = run.stdout + run.stderr
    assert len(output) < 60, "\n".join(output)
    assert run.stdout[0].startswith("building every delivery from ")
    assert run.stdout[-1].startswith("Full log (Dagster and dbt): ")
    # The summary comes once, at the end.
    for heading in ("Landed by this run", "Published ", "Analytics database"):
        assert sum(line.startswith(heading) for line in run.stdout) == 1, heading
    # The only other line: the development salt, said in plain words.
    assert run.stderr == [line for line in run.stderr if line.startswith("warning: ")]


def test_each_stage_is_one_line_with_its_time(shipped_sample_run: Run) -> None:
    stage_lines = [line for line in shipped_sample_run.stdout if re.search(r"^  .* s$", line)]
    shown = {}
    for line in stage_lines:
        match = re.fullmatch(r"  (?P<stage>.+?) +(?P<outcome>done|FAILED|SKIPPED) +[\d.]+ s", line)
        assert match, line
        shown[match["stage"]] = match["outcome"]
    assert len(stage_lines) == len(STAGES)
    assert shown == dict.fromkeys(STAGES, "done")


def test_no_library_noise_and_no_freshness_warning_a_year_later(shipped_sample_run: Run) -> None:
    output = "\n".join(shipped_sample_run.stdout + shipped_sample_run.stderr)
    for noise in NOISE:
        assert noise not in output, noise
    assert "days old" not in output and "freshness" not in output


def test_the_full_log_is_in_the_file_the_run_names(shipped_sample_run: Run) -> None:
    named = Path(shipped_sample_run.stdout[-1].split(": ", 1)[1])
    assert named.parent == shipped_sample_run.data / "logs" and named.is_file()
    log = named.read_text()
    assert re.search(r"OK created sql table model marts\.fct_sessions", log)  # dbt, per node
    assert " - dagster - INFO - build_everything - " in log  # Dagster's own log
