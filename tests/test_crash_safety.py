"""Crashes and concurrent readers.

A build killed with SIGKILL during ingestion, during dbt or during publish: the next
`make run` finishes and publishes exactly what an uninterrupted build publishes, the lake
holds each delivery once and whole, and the previous analytics.duckdb stayed readable
throughout. Analysts querying in a loop while builds publish see whole versions only.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pytest
from dagster import ExecuteInProcessResult

from orchestration.settings import REPO_ROOT
from tests.conftest import copy_build, query, tree_digest
from tests.test_incremental import published_tables

pytestmark = pytest.mark.slow


def cli_build(raw: Path, data: Path, failpoint: str = "") -> subprocess.CompletedProcess[str]:
    """`make run`'s build in its own process group (what a crash of the machine kills)."""
    env = {
        **os.environ,
        "DONGNE_RAW_DIR": str(raw),
        "DONGNE_DATA_DIR": str(data),
        "DONGNE_PII_SALT": "test-salt",
        "DONGNE_DUCKDB_THREADS": "2",
        "DONGNE_DUCKDB_MEMORY_LIMIT": "2GB",
        "DONGNE_FAILPOINT": failpoint,
    }
    return subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "build"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        start_new_session=True,
        check=False,
    )


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


def lake_rows_by_delivery(lake: Path) -> dict[str, list[tuple]]:
    """Per source: each delivery's rows, and its distinct (file, line) pairs: a partial
    delivery has fewer, a duplicated one more rows than pairs."""
    found = {}
    with duckdb.connect() as con:
        for source in ["events", "db/users", "db/listings", "db/trades", "db/posts"]:
            found[source] = con.execute(f"""
                select _delivery, count(*), count(distinct (_file, _line))
                from read_parquet('{lake}/{source}/**/*.parquet', union_by_name = true,
                                  hive_partitioning = false)
                group by all order by all
            """).fetchall()
        found["quarantine"] = con.execute(f"""
            select source, file, line, reason
            from read_parquet('{lake}/quarantine/**/*.parquet', union_by_name = true)
            order by all
        """).fetchall()
    return found


@pytest.fixture(scope="module")
def uninterrupted(
    sample_build: tuple[Path, ExecuteInProcessResult],
) -> tuple[dict[str, list[tuple]], dict[str, list[tuple]]]:
    data, _ = sample_build
    return published_tables(data / "analytics.duckdb"), lake_rows_by_delivery(data / "lake")


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
def test_a_build_killed_midway_is_finished_by_the_next_run(
    phase: str,
    failpoint: str,
    sample_raw_dir: Path,
    sample_build: tuple[Path, ExecuteInProcessResult],
    uninterrupted: tuple[dict[str, list[tuple]], dict[str, list[tuple]]],
    tmp_path: Path,
) -> None:
    built, _ = sample_build
    data = tmp_path / "data"
    copy_build(built, data)
    published = data / "analytics.duckdb"
    manifest = "select publish_id from marts.publish_manifest"
    (previous,) = query(published, manifest)
    # The lake must be rebuilt for the kill to land inside ingestion.
    shutil.rmtree(data / "lake")

    with analysts(published, tmp_path) as seen:
        killed = cli_build(sample_raw_dir, data, failpoint)
        assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
        assert debris_of(phase, data), f"the kill did not come during {phase}"
        assert query(published, manifest) == [previous]  # the old version is still there
        recovered = cli_build(sample_raw_dir, data)
        assert recovered.returncode == 0, recovered.stderr[-3000:]

    assert all(s["errors"] == [] for s in seen), [s["errors"][:3] for s in seen]
    assert all(s["reads"] > 0 for s in seen)
    tables, lake = uninterrupted
    assert published_tables(published) == tables
    assert lake_rows_by_delivery(data / "lake") == lake
    assert not list(data.glob(".analytics.duckdb.*.tmp"))
    assert not list((data / "lake" / ".staging").glob("*"))
    assert query(published, manifest) != [previous]


def test_analysts_querying_during_builds_see_whole_versions_only_and_reruns_change_nothing(
    sample_raw_dir: Path,
    sample_build: tuple[Path, ExecuteInProcessResult],
    uninterrupted: tuple[dict[str, list[tuple]], dict[str, list[tuple]]],
    tmp_path: Path,
) -> None:
    built, _ = sample_build
    raw, data = tmp_path / "raw", tmp_path / "data"
    shutil.copytree(sample_raw_dir, raw)
    copy_build(built, data)
    published = data / "analytics.duckdb"
    raw_before = tree_digest(raw)
    with analysts(published, tmp_path, count=3) as seen:
        # The same build again, then with a file delivered a second time (re-ingested).
        first = cli_build(raw, data)
        assert first.returncode == 0, first.stderr[-3000:]
        assert tree_digest(raw) == raw_before  # the raw directory is read, never written
        # The same raw data gives the same tables, session ids included.
        assert published_tables(published) == uninterrupted[0]
        files = sorted(raw.glob("events/*/*.jsonl*"))
        delivered = files[len(files) // 2]
        shutil.copy2(delivered, delivered.with_name("redelivered-" + delivered.name))
        second = cli_build(raw, data)
        assert second.returncode == 0, second.stderr[-3000:]
    assert all(s["errors"] == [] for s in seen), [s["errors"][:3] for s in seen]
    assert sum(s["reads"] for s in seen) > 100
    # Each analyst saw the publishes change under it: the old file, then the new ones.
    assert all(len(s["publishes"]) >= 2 for s in seen), [s["publishes"] for s in seen]
    # Neither the rerun nor the re-ingested file changed a published number.
    tables, _ = uninterrupted
    assert published_tables(published) == tables
