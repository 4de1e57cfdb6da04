"""make bench: what a build costs at each size, against one plain DuckDB script.

For each size (S = 1M and M = 10M event lines; L = 100M with --large) it generates the
sample data once (cached under <DONGNE_DATA_DIR>/bench/raw/) and measures, each in its
own process:

- baseline      bench/baseline.sql: the four core marts straight from the raw files,
                then compared with the published ones (bench/compare.py)
- full build    `python -m orchestration.cli build` in a fresh data directory, on every
                delivery but the newest: landing, dbt build, publish and total wall time,
                event lines per second, peak memory of the whole process tree
- latency       (sizes named by --latency, default S) the newest day dropped as ARRIVALS
                files while `make dev`'s daemon runs the arrival sensor: seconds from each
                drop to its headline figure published (bench/arrivals.py)
- incremental   the newest day delivered on top, built as a one-day run
- headline      the same day as the near-real-time run (`build --headline`)
- clock +30 d   the full build again with the clock moved 30 days later (DONGNE_TODAY):
                a build's cost must follow the data, not the calendar (not with --quick,
                nor at L)
- import        `import orchestration.definitions` and loading it (`defs()`)
- Spark local   (sizes named by --spark) the full build with DONGNE_ENGINE=spark: the same
                project on a local SparkSession, in a fresh data directory
- Spark cluster (sizes named by --cluster) the full build and the one-day run on a
                standalone cluster started for them (bench/cluster.py), through its
                Thrift server; peak memory counts every JVM of the cluster

Results go to bench/results/ (latest.json, latest.md, latest.png); docs/speed.md shows the
table and the chart. The ratios (full / baseline, incremental / full) do not depend on
the machine; the seconds do, and the report names the machine.

    python -m bench.run --sizes S,M [--spark S] [--cluster S,M] [--latency S] [--large]
                        [--quick] [--results DIR] [--data DIR]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bench.arrivals import ARRIVALS, arrival_latency
from bench.cluster import bench_cluster
from bench.compare import COMPARED, baseline_file, compare
from bench.data import DAYS, SIZES, deliver_day, restore, sample_data, split_newest_day
from bench.measure import REPO, Measured, base_env, measure
from bench.peak import latest_run_steps, peak_during
from bench.report import TARGETS, SizeResult, chart, machine, markdown
from orchestration.settings import DEFAULT_DUCKDB_MEMORY_LIMIT

BASELINE_SQL = Path(__file__).with_name("baseline.sql")
IMPORT_REPEATS = 3  # the import is timed this often per size; the report gives the best
RESULTS = Path(__file__).with_name("results")
MEMORY_LIMIT = DEFAULT_DUCKDB_MEMORY_LIMIT  # the platform's default, unless --memory-limit


def run_baseline(raw: Path, work: Path, memory_limit: str = MEMORY_LIMIT) -> Measured:
    """bench/baseline.sql on `raw`, timed alone; then, untimed, its four marts written as
    Parquet files for bench/compare.py."""
    script = work / "baseline.sql"
    script.write_text(BASELINE_SQL.read_text().replace("{raw}", str(raw)))
    saved = " ".join(
        f"copy {mart} to '{baseline_file(work, mart)}' (format parquet);" for mart in COMPARED
    )
    code = (
        "import duckdb, sys, time; "
        f"con = duckdb.connect(config={{'memory_limit': {memory_limit!r}, 'threads': 2}}); "
        f"con.execute(\"set temp_directory = '{work / 'tmp'}'\"); "
        "began = time.perf_counter(); "
        "con.execute(open(sys.argv[1]).read()).fetchall(); "
        "print(f'baseline seconds: {time.perf_counter() - began}', flush=True); "
        f"con.execute({saved!r})"
    )
    measured = measure(
        [sys.executable, "-c", code, str(script)], dict(os.environ), work / "baseline.log"
    )
    timed = re.search(r"baseline seconds: ([0-9.]+)", (work / "baseline.log").read_text())
    if timed:  # the script's own seconds, without the process start and the Parquet files
        measured.seconds = float(timed.group(1))
    return measured


def run_build(
    raw: Path,
    data: Path,
    log: Path,
    *args: str,
    also: Callable[[], list[int]] | None = None,
    spill: Path | None = None,
    **env: str,
) -> Measured:
    measured = measure(
        [sys.executable, "-m", "orchestration.cli", "build", *args],
        base_env(raw, data, **env),
        log,
        also=also,
        spill=spill,
    )
    if measured.returncode:
        raise RuntimeError(f"the build failed (see {log}):\n{measured.output}")
    return measured


def event_lines_read(data: Path) -> int:
    """The event lines the latest build of a data directory read: its landing's rows
    received (loaded + quarantined), from the run's own record."""
    from dagster import AssetKey, DagsterInstance

    os.environ["DAGSTER_HOME"] = str(data / "dagster_home")  # where its event log lives
    with DagsterInstance.from_config(str(data / "dagster_home")) as instance:
        event = instance.get_latest_materialization_event(AssetKey("raw_events"))
    assert event is not None and event.asset_materialization is not None, "no events landed"
    return int(event.asset_materialization.metadata["rows_received"].value)


def stage_seconds(data: Path) -> dict[str, float]:
    """Seconds per step of the latest run in a data directory's Dagster instance."""
    return {key: round(ended - began, 2) for key, began, ended in latest_run_steps(data)}


def dbt_seconds(data: Path) -> float:
    """The dbt step's seconds in the latest run of a data directory."""
    return sum(v for k, v in stage_seconds(data).items() if k.startswith("dongne_dbt"))


def breakdown(data: Path, wall: float) -> dict[str, float]:
    """Where a build's wall time went: the phases the build records beside its log
    (orchestration/timings.py) and the steps of its Dagster run, the rest named as such."""
    latest = max((data / "logs").glob("*.timings.json"), key=lambda path: path.stat().st_mtime)
    phases = json.loads(latest.read_text())["phases"]
    steps = stage_seconds(data)
    dbt_step = sum(v for k, v in steps.items() if k.startswith("dongne_dbt"))
    parts = {
        "process start and imports": phases.get("process start and imports", 0.0),
        "definitions": phases.get("definitions", 0.0),
        "landing": sum(v for k, v in steps.items() if k.startswith("raw_")),
        "dbt": phases.get("dbt", 0.0),
        "metadata": phases.get("dbt metadata", 0.0),
        "dbt step, other": max(
            0.0, dbt_step - phases.get("dbt", 0.0) - phases.get("dbt metadata", 0.0)
        ),
        "publish": steps.get("analytics_db", 0.0),
        "classifier": steps.get("moderation_classifier", 0.0),
        "summary": phases.get("summary", 0.0),
    }
    # Run creation, Dagster's step and event handling, process exit.
    parts["the rest"] = max(0.0, wall - sum(parts.values()))
    return {name: round(seconds, 2) for name, seconds in parts.items()}


def import_seconds(raw: Path, data: Path) -> float:
    code = (
        # The module only defines; Dagster calls `defs` to load the code location.
        "import time; began = time.perf_counter(); import orchestration.definitions as d; "
        "d.defs(); print(time.perf_counter() - began)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=base_env(raw, data),
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    )
    return float(result.stdout.strip().splitlines()[-1])


def bench_size(
    size: str,
    cache: Path,
    work: Path,
    quick: bool = False,
    spark: bool = False,
    latency: bool = False,
    cluster: bool = False,
    memory_limit: str = MEMORY_LIMIT,
) -> SizeResult:
    raw, lines = sample_data(cache / "raw", size)
    history = work / f"{size}-raw"
    newest = split_newest_day(raw, history)
    result = SizeResult(size=size, event_lines=lines, days=DAYS[size])
    print(f"[{size}] baseline (plain DuckDB) ...")
    baseline = run_baseline(history, work, memory_limit)
    # Every build of this size runs with the same DuckDB memory limit as the baseline.
    build = functools.partial(run_build, DONGNE_DUCKDB_MEMORY_LIMIT=memory_limit)
    if baseline.returncode:
        raise RuntimeError(f"the baseline failed:\n{baseline.output}")
    result.baseline_s, result.baseline_peak_mib = baseline.seconds, baseline.peak_mib

    print(f"[{size}] full build ...")
    data = work / f"{size}-data"
    shutil.rmtree(data, ignore_errors=True)
    full = build(history, data, work / f"{size}-full.log", spill=data / "tmp")
    result.full_s, result.full_peak_mib = full.seconds, full.peak_mib
    result.full_spill_mib = full.spill_peak_mib
    result.full_cgroup_peak_mib = full.cgroup_peak_mib
    result.full_peak_during = peak_during(data, full.peak_at)
    result.full_peak_processes = full.peak_processes
    result.event_lines_read = event_lines_read(data)
    compared = compare(data / "analytics.duckdb", work)
    result.baseline_comparison = [c.sentence() for c in compared]
    result.baseline_equal = all(c.equal for c in compared)
    result.stages = stage_seconds(data)
    result.landing_s = sum(v for k, v in result.stages.items() if k.startswith("raw_"))
    result.dbt_s = sum(v for k, v in result.stages.items() if k.startswith("dongne_dbt"))
    result.publish_s = result.stages.get("analytics_db", 0.0)

    if spark:
        print(f"[{size}] full build on Spark (local) ...")
        on_spark = work / f"{size}-spark-data"
        shutil.rmtree(on_spark, ignore_errors=True)
        measured = build(history, on_spark, work / f"{size}-spark.log", DONGNE_ENGINE="spark")
        result.spark_full_s, result.spark_peak_mib = measured.seconds, measured.peak_mib
        result.spark_dbt_s = dbt_seconds(on_spark)
        shutil.rmtree(on_spark, ignore_errors=True)
    if cluster:
        print(f"[{size}] full build and one-day run on a Spark cluster (Thrift) ...")
        bench_cluster(size, raw, history, newest, work, result, build, dbt_seconds)

    # The state before the newest day, kept for the runs that start from it (the arrival
    # latency and the headline run). Not at L without --latency: its data directory is tens
    # of GB, and the copy would double it; L's headline run is then not run.
    keep_history = size != "L" or latency
    history_build = work / f"{size}-history-data"
    shutil.rmtree(history_build, ignore_errors=True)
    if keep_history:
        shutil.copytree(data, history_build)
    if latency:
        print(f"[{size}] arrival latency: {ARRIVALS} files dropped one by one, sensor running ...")
        # On a copy: the state before the newest day stays as it was for the runs below
        # (a data directory that moved is parsed again for its new paths, which a user's
        # never is; the copy pays that before its first arrival, as a first `make dev` does).
        watched = work / f"{size}-latency-data"
        restore(history_build, watched)
        result.arrival_latencies_s = arrival_latency(raw, history, watched, newest, work)
        shutil.rmtree(watched, ignore_errors=True)
        shutil.rmtree(history, ignore_errors=True)
        split_newest_day(raw, history)

    print(f"[{size}] one-day run, every table ({newest}) ...")
    deliver_day(raw, history, newest)
    incremental = build(
        history, data, work / f"{size}-incremental.log", "--from", newest, "--to", newest
    )
    result.incremental_s = incremental.seconds
    result.incremental_parts = breakdown(data, incremental.seconds)

    if keep_history:
        print(f"[{size}] one-day run, near-real-time path (--headline) ...")
        restore(history_build, data)
        headline = build(
            history, data, work / f"{size}-headline.log", "--from", newest, "--headline"
        )
        result.headline_s = headline.seconds
        result.headline_parts = breakdown(data, headline.seconds)
        shutil.rmtree(history_build, ignore_errors=True)

    # The suite's smoke run skips this second full build, and so does L (an hour).
    if not quick and size != "L":
        print(f"[{size}] full build with the clock 30 days later ...")
        moved = (date.fromisoformat(newest) + timedelta(days=30)).isoformat()
        shutil.rmtree(data, ignore_errors=True)
        clock = build(history, data, work / f"{size}-clock.log", DONGNE_TODAY=moved)
        result.clock_moved_s = clock.seconds
    # With dbt's parse prepared for this data directory, as it is for every later load.
    result.import_repeats = 1 if size == "XS" else IMPORT_REPEATS  # XS: the suite's smoke run
    result.import_s = min(import_seconds(history, data) for _ in range(result.import_repeats))
    shutil.rmtree(data, ignore_errors=True)
    shutil.rmtree(history, ignore_errors=True)
    return result


def commit() -> str:
    """The code measured: its commit, marked when the work tree had changes."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""

    head = git("rev-parse", "--short=12", "HEAD") or "unknown (not a git checkout)"
    changed = git("status", "--porcelain", "--", ".", ":!bench/results", ":!data")
    return f"{head} with uncommitted changes" if changed else head


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--sizes", default="S,M", help="comma-separated: XS, S, M, L")
    parser.add_argument("--large", action="store_true", help="also L (100M event lines)")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="skip the full build with the clock moved (the test suite's smoke run)",
    )
    parser.add_argument(
        "--spark", default="", help="comma-separated sizes also built on Spark (local)"
    )
    parser.add_argument(
        "--cluster",
        default="",
        help="comma-separated sizes also built on a Spark cluster through its Thrift server",
    )
    parser.add_argument(
        "--latency",
        default="S",
        help="comma-separated sizes whose arrival latency is measured ('' for none)",
    )
    parser.add_argument(
        "--memory-limit",
        default=MEMORY_LIMIT,
        help="DuckDB's memory_limit for the baseline and every build (DONGNE_DUCKDB_MEMORY_LIMIT)",
    )
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument(
        "--data",
        type=Path,
        default=Path(os.environ.get("DONGNE_DATA_DIR", REPO / "data")) / "bench",
        help="where generated data is cached and builds run",
    )
    args = parser.parse_args(argv)
    built = commit()  # the code as the run starts
    sizes = [s.strip().upper() for s in args.sizes.split(",") if s.strip()]
    if args.large and "L" not in sizes:
        sizes.append("L")
    unknown = [s for s in sizes if s not in SIZES]
    if unknown:
        parser.error(f"unknown size(s) {unknown}: choose from {', '.join(SIZES)}")
    data = args.data.resolve()
    work = data / "work"
    work.mkdir(parents=True, exist_ok=True)
    on_spark = {s.strip().upper() for s in args.spark.split(",") if s.strip()}
    timed_arrivals = {s.strip().upper() for s in args.latency.split(",") if s.strip()}
    on_cluster = {s.strip().upper() for s in args.cluster.split(",") if s.strip()}
    results = [
        bench_size(
            size,
            data,
            work,
            quick=args.quick,
            spark=size in on_spark,
            latency=size in timed_arrivals,
            cluster=size in on_cluster,
            memory_limit=args.memory_limit,
        )
        for size in sizes
    ]
    imported = min(r.import_s for r in results)
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    where = machine()
    table = markdown(
        results, imported, when, f"{where}, DuckDB memory_limit {args.memory_limit}", built
    )
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "latest.md").write_text(table + "\n")
    (args.results / "latest.json").write_text(
        json.dumps(
            {
                "measured_at": when,
                "machine": where,
                "commit": built,
                "duckdb_memory_limit": args.memory_limit,
                "import_seconds": imported,
                "targets": TARGETS,
                "sizes": [{**asdict(r), "events_per_second": r.events_per_second} for r in results],
            },
            indent=2,
        )
        + "\n"
    )
    chart(results, args.results / "latest.png")
    print(table)
    print(f"\nresults: {args.results}/latest.md, latest.json, latest.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
