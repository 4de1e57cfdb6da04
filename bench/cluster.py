"""make bench's cluster column: the same full build, one-day run and near-real-time run on
a standalone Spark cluster (make cluster's: a master, two workers and a Thrift server, each
a JVM), through its Thrift server (DONGNE_ENGINE=spark-cluster), with the peak memory of
the whole cluster: the build's process tree and every JVM of the cluster, executors
included."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

from bench.data import deliver_day, split_newest_day
from bench.measure import Measured
from bench.report import SizeResult
from orchestration.cluster import ephemeral_cluster


def cluster_pids(data: Path) -> Callable[[], list[int]]:
    """The cluster's JVMs, from its pid files (read at each sample)."""

    def pids() -> list[int]:
        found = []
        for pid_file in (data / "cluster" / "run").glob("*.pid"):
            try:
                found.append(int(pid_file.read_text().strip()))
            except (OSError, ValueError):
                continue
        return found

    return pids


def bench_cluster(
    size: str,
    raw: Path,
    history: Path,
    newest: str,
    work: Path,
    result: SizeResult,
    run_build: Callable[..., Measured],
    dbt_seconds: Callable[[Path], float],
) -> None:
    """The full build of `history` on a fresh cluster, then the newest day as a one-day
    run, then that day again on the near-real-time path (`--headline`); `history` is left
    as it was (without the newest day)."""
    data = work / f"{size}-cluster-data"
    shutil.rmtree(data, ignore_errors=True)
    with ephemeral_cluster(data) as cluster:
        env = {**cluster, "DONGNE_ENGINE": "spark-cluster"}
        also = cluster_pids(data)
        full = run_build(history, data, work / f"{size}-cluster.log", also=also, **env)
        result.cluster_full_s, result.cluster_peak_mib = full.seconds, full.peak_mib
        result.cluster_dbt_s = dbt_seconds(data)
        deliver_day(raw, history, newest)
        one_day = run_build(
            history,
            data,
            work / f"{size}-cluster-one-day.log",
            "--from",
            newest,
            "--to",
            newest,
            also=also,
            **env,
        )
        result.cluster_one_day_s = one_day.seconds
        result.cluster_one_day_dbt_s = dbt_seconds(data)
        result.cluster_peak_mib = max(result.cluster_peak_mib, one_day.peak_mib)
        # The near-real-time path of the same day: what the arrival sensor starts.
        headline = run_build(
            history,
            data,
            work / f"{size}-cluster-headline.log",
            "--from",
            newest,
            "--headline",
            also=also,
            **env,
        )
        result.cluster_headline_s = headline.seconds
        result.cluster_peak_mib = max(result.cluster_peak_mib, headline.peak_mib)
    split_newest_day(raw, history)
    shutil.rmtree(data, ignore_errors=True)
    os.sync()
