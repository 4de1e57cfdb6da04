"""Crashes and concurrent readers.

A build killed with SIGKILL during ingestion, during dbt or during publish: the next
`make run` finishes and publishes exactly what an uninterrupted build publishes, the lake
holds each delivered file once and whole, and the previous analytics.duckdb stayed
readable throughout. Analysts querying in a loop all the while see whole versions only.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from dagster import ExecuteInProcessResult

from orchestration.settings import REPO_ROOT
from tests.conftest import (
    EVENT_FILES,
    cli_build,
    copy_platform,
    lake_rows_by_file,
    query,
    resend,
    tree_digest,
)
from tests.test_incremental import published_tables

pytestmark = pytest.mark.slow


@contextmanager
def analysts(database: Path, scratch: Path, count: int = 2) -> Iterator[list[dict[str, Any]]]:
    """`count` analyst processes querying `database` in a loop while the block runs."""
    stop = scratch / "stop"
    stop.unlink(missing_ok=True)
    outputs = [scratch / f"analyst-{n}.json" for n in range(count)]
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.analyst", str(database), str(stop), str(out)],
            cwd=REPO_ROOT,
        )
        for out in outputs
    ]
    seen: list[dict[str, Any]] = []
    try:
        yield seen
    finally:
        stop.touch()
        for process in processes:
            process.wait(timeout=60)
        seen.extend(json.loads(out.read_text()) for out in outputs)


def with_resent(lake: dict[str, list[tuple]], original: str, copy: str) -> dict[str, list[tuple]]:
    """The lake once `original` (a raw file's relative path) is delivered again as `copy`:
    every row and quarantined line of the original, once more under the copy's name."""
    resent = {}
    for source, rows in lake.items():
        column = 1  # the file: second in the lake's rows and in the quarantine's
        again = [(*r[:column], copy, *r[column + 1 :]) for r in rows if r[column] == original]
        resent[source] = sorted(rows + again)
    return resent


@pytest.fixture(scope="module")
def uninterrupted(
    sample_build: tuple[Path, ExecuteInProcessResult],
) -> tuple[dict[str, list[tuple]], dict[str, list[tuple]]]:
    data, _ = sample_build
    return published_tables(data / "analytics.duckdb"), lake_rows_by_file(data / "lake")


def debris_of(phase: str, data: Path) -> list[Path]:
    """What a kill at `phase` leaves behind (proof the kill came where it was meant to)."""
    if phase == "ingestion":
        return list((data / "lake" / ".staging").glob("swap-*.json"))
    if phase == "dbt":
        # dbt writes run_results.json when it finishes: an invocation folder without one
        # is a dbt run that was killed (the copied build's own invocations all have it).
        attempts = (data / "dbt" / "runs").glob("dongne_dbt_models-*")
        return [a for a in attempts if not (a / "run_results.json").exists()]
    return list(data.glob(".analytics.duckdb.*.tmp"))


FAILPOINTS = [
    ("ingestion", "lake.swap:5"),  # between the two renames that swap a lake folder in
    ("dbt", "dbt.event:60"),  # dbt has built some models of the big step, not the rest
    ("publish", "publish.swap"),  # the new analytics file is written, not yet swapped in
]


@pytest.mark.parametrize(("phase", "failpoint"), FAILPOINTS, ids=[f[0] for f in FAILPOINTS])
def test_a_build_killed_midway_is_finished_by_the_next_run_while_analysts_read(
    phase: str,
    failpoint: str,
    sample_raw_dir: Path,
    sample_build: tuple[Path, ExecuteInProcessResult],
    uninterrupted: tuple[dict[str, list[tuple]], dict[str, list[tuple]]],
    tmp_path: Path,
) -> None:
    """Killed at `phase`, then finished by the next run, with analysts querying the whole
    time: they see whole versions only, the old one until the new one is swapped in. The
    finishing run also meets a file delivered a second time (a collector's resend): it is
    re-ingested and changes no published number. The raw directory is never written."""
    raw, data = copy_platform(sample_raw_dir, sample_build[0], tmp_path)
    published = data / "analytics.duckdb"
    manifest = "select publish_id from marts.publish_manifest"
    ((previous,),) = query(published, manifest)
    if phase == "ingestion":  # the lake must be rebuilt for the kill to land in ingestion
        shutil.rmtree(data / "lake")

    with analysts(published, tmp_path) as seen:
        untouched = tree_digest(raw)
        killed = cli_build(raw, data, failpoint)
        assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
        assert tree_digest(raw) == untouched  # the killed run did not write into raw either
        assert debris_of(phase, data), f"the kill did not come during {phase}"
        assert query(published, manifest) == [(previous,)]  # the old version is still there
        original, copy = resend(raw, len(list(raw.glob(EVENT_FILES))) // 2)
        raw_before = tree_digest(raw)
        recovered = cli_build(raw, data)
        assert recovered.returncode == 0, recovered.stderr[-3000:]
        assert tree_digest(raw) == raw_before  # the raw directory is read, never written

    assert all(s["errors"] == [] for s in seen), [s["errors"][:3] for s in seen]
    # Each analyst read the old version, then the new one, and nothing in between.
    assert all(s["publishes"][0] == previous for s in seen), [s["publishes"] for s in seen]
    assert all(len(s["publishes"]) == 2 for s in seen), [s["publishes"] for s in seen]
    tables, lake = uninterrupted
    assert published_tables(published) == tables  # session ids included
    resent = with_resent(
        lake, original.relative_to(raw).as_posix(), copy.relative_to(raw).as_posix()
    )
    assert lake_rows_by_file(data / "lake") == resent
    assert not list(data.glob(".analytics.duckdb.*.tmp"))
    assert not list((data / "lake" / ".staging").glob("*"))
    assert query(published, manifest) == [(seen[0]["publishes"][-1],)]
