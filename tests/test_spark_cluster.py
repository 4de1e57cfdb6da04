"""The platform on a running Spark cluster (`make cluster`: a master, two workers and a
Thrift server, each its own JVM), through dbt-spark's thrift method
(DONGNE_ENGINE=spark-cluster):

- the shipped sample (seeds/), all but its last day, builds through `make run`'s command
  line, and every published table equals DuckDB's build of the same deliveries;
- the last day then arrives and a one-day run rewrites only the date partitions that
  day's events can change, and every published table equals DuckDB's full build;
- day by day, out of order and with late files (tests/test_incremental.py's sequence),
  every published table and every incremental model equals DuckDB's full rebuild;
- neither the salt nor its pads reach a file (the cluster's own logs included);
- a build aimed at a cluster that is not running stops before landing, saying to run
  `make cluster`; starting a running cluster again starts nothing, and `cluster-stop`
  stops every JVM.

Each test that needs a cluster starts its own on free ports, with its data directory (the
cluster keeps its catalog and tables there), and stops it. `make test-cluster` runs this
module (CI too): a cluster start and several Spark builds do not fit make test's 10
minutes.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import duckdb
import pytest
from dagster import ExecuteInProcessResult

from orchestration.cluster import ephemeral_cluster
from orchestration.partitions import delivery_days
from orchestration.settings import REPO_ROOT
from tests.browser import free_port
from tests.conftest import cli_build, copy_delivery, settings_for
from tests.published import differences
from tests.test_incremental import day_by_day_with_late_files, partition_run
from tests.test_spark_engine import salt_leaks

pytestmark = pytest.mark.cluster

ENGINE = "spark-cluster"


@contextmanager
def running_cluster(data: Path) -> Iterator[None]:
    """A cluster for `data` on free ports (orchestration/cluster.ephemeral_cluster); its
    settings stay in this process's environment, where dbt's profile and the preflight
    read them, until the cluster is stopped."""
    with ephemeral_cluster(data) as env, pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        yield


def partition_files(table: Path) -> dict[str, set[tuple[str, int]]]:
    """A partitioned Spark table's files by partition folder: (name, modification time)."""
    return {
        folder.name: {(f.name, f.stat().st_mtime_ns) for f in folder.glob("*.parquet")}
        for folder in table.iterdir()
        if folder.is_dir() and "=" in folder.name
    }


def dates_a_delivery_changes(lake: Path, day: str) -> set[str]:
    """docs: the window's dates (window_event_dates): the date of every copy of every
    event delivered on `day`, as the partition folders name them."""
    with duckdb.connect() as con:
        rows = con.execute(f"""
            select distinct cast(event_date as varchar) from
                read_parquet('{lake}/events/*/*/*.parquet', hive_partitioning = true)
            where event_id in (
                select event_id from read_parquet(
                    '{lake}/events/{day}/*/*.parquet', hive_partitioning = true
                )
            )
        """).fetchall()
    return {f"event_date={date}" for (date,) in rows}


def test_the_shipped_sample_builds_on_the_cluster_then_a_day_rewrites_its_dates(
    tmp_path: Path,
) -> None:
    seeds = REPO_ROOT / "seeds"
    days = delivery_days(seeds)
    raw, data, duck = tmp_path / "raw", tmp_path / "data", tmp_path / "duckdb"
    shutil.copytree(seeds / "reference", raw / "reference")
    for day in days[:-1]:
        copy_delivery(seeds, raw, day)
    assert cli_build(raw, duck).returncode == 0
    with running_cluster(data):
        started = time.monotonic()
        ran = cli_build(raw, data, DONGNE_ENGINE=ENGINE)
        full_seconds = time.monotonic() - started
        assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-3000:]
        assert differences(duck / "analytics.duckdb", data / "analytics.duckdb") == []

        warehouse = settings_for(raw, data, ENGINE).warehouse_location
        dated = warehouse / "intermediate.db" / "int_events_dated"
        before = partition_files(dated)
        copy_delivery(seeds, raw, days[-1])
        started = time.monotonic()
        partition_run(raw, data, days[-1], days[-1], engine=ENGINE)
        day_seconds = time.monotonic() - started
        after = partition_files(dated)
        rewritten = {p for p in after.keys() | before.keys() if after.get(p) != before.get(p)}
        assert rewritten == dates_a_delivery_changes(data / "lake", days[-1]), rewritten
        assert len(rewritten) < len(after) / 4

        full = tmp_path / "duckdb-full"
        assert cli_build(seeds, full).returncode == 0
        assert differences(full / "analytics.duckdb", data / "analytics.duckdb") == []
        assert salt_leaks(data, warehouse) == []
    print(f"cluster: full build {full_seconds:.0f} s, one-day run {day_seconds:.0f} s")


@pytest.mark.slow
def test_day_by_day_with_late_files_on_the_cluster_equals_full_rebuild(
    sample_raw_dir: Path, sample_build: tuple[Path, ExecuteInProcessResult], tmp_path: Path
) -> None:
    full_data, _ = sample_build
    with running_cluster(tmp_path / "data"):
        day_by_day_with_late_files(sample_raw_dir, full_data, tmp_path, ENGINE)


def test_a_build_names_a_cluster_that_is_not_running(tmp_path: Path) -> None:
    """No Thrift server on the port: the build stops before landing, saying what to run."""
    port = free_port()
    ran = cli_build(
        REPO_ROOT / "seeds",
        tmp_path / "data",
        DONGNE_ENGINE=ENGINE,
        DONGNE_SPARK_THRIFT_PORT=str(port),
    )
    assert ran.returncode != 0
    said = ran.stdout + ran.stderr
    assert f"no Spark Thrift server answers on 127.0.0.1:{port}" in said and "make cluster" in said
    assert not (tmp_path / "data" / "lake").exists()


def test_starting_the_cluster_again_is_harmless(tmp_path: Path) -> None:
    """A second `make cluster` finds every part running and starts none; `cluster-stop`
    stops all four JVMs, even when whoever started the cluster ignored SIGTERM (a JVM
    that starts with it ignored never stops on it: cluster-stop then timed out)."""
    command = [sys.executable, "-m", "orchestration.cluster"]
    ignored = signal.signal(signal.SIGTERM, signal.SIG_IGN)
    cluster = ExitStack()
    try:
        cluster.enter_context(running_cluster(tmp_path / "data"))
    finally:
        signal.signal(signal.SIGTERM, ignored)
    with cluster:
        run_dir = tmp_path / "data" / "cluster" / "run"
        for pid_file in run_dir.glob("*.pid"):
            status = Path(f"/proc/{pid_file.read_text().strip()}/status").read_text()
            ignored_signals = int(status.split("SigIgn:")[1].split()[0], 16)
            assert not ignored_signals & (1 << (signal.SIGTERM - 1)), pid_file.name
        pids = subprocess.run(
            [*command, "status"], capture_output=True, text=True, check=True
        ).stdout
        again = subprocess.run([*command, "start"], capture_output=True, text=True, timeout=60)
        assert again.returncode == 0, again.stderr
        assert (
            subprocess.run([*command, "status"], capture_output=True, text=True, check=True).stdout
            == pids
        )
        assert pids.count("running, pid") == 4
        env = dict(os.environ)
    stopped = subprocess.run(
        [*command, "status"], capture_output=True, text=True, check=True, env=env
    ).stdout
    assert stopped.count("stopped") == 4, stopped
