"""What `make bench` reports: each size's figures, the markdown tables of
bench/results/latest.md and the chart latest.png."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass, field
from pathlib import Path

from bench.arrivals import ARRIVALS

# The targets make bench reports against: the ratios at M, the one-day run and arrival
# seconds at S, peak memory at L, the fixed step and import seconds at any size.
TARGETS = {
    "full_vs_baseline": 3.0,
    "incremental_vs_full": 0.25,
    "one_day_seconds_at_s": 20.0,
    "arrival_p50_seconds": 15.0,
    "arrival_p95_seconds": 30.0,
    "fixed_step_seconds": 3.0,
    "peak_memory_gib": 4.0,
    "import_seconds": 3.0,
}


@dataclass
class SizeResult:
    size: str
    event_lines: int
    days: int
    baseline_s: float = 0.0
    baseline_peak_mib: float = 0.0
    # Whether the baseline's four marts equal the published ones (bench/compare.py), and
    # one sentence per mart saying so or where they differ.
    baseline_equal: bool = False
    baseline_comparison: list[str] = field(default_factory=list)
    # The event lines the full build read (its landing's rows received): the generated
    # lines less the newest day's, held back for the one-day run.
    event_lines_read: int = 0
    full_s: float = 0.0
    full_peak_mib: float = 0.0  # PSS of the process tree, sampled every 100 ms
    full_cgroup_peak_mib: float = 0.0  # the kernel's cgroup peak, page cache included
    # What ran at the PSS peak (bench/peak.py) and the largest processes then (MiB).
    full_peak_during: str = ""
    full_peak_processes: list[tuple[str, float]] = field(default_factory=list)
    landing_s: float = 0.0
    dbt_s: float = 0.0
    publish_s: float = 0.0
    incremental_s: float = 0.0
    clock_moved_s: float = 0.0
    import_s: float = 0.0
    import_repeats: int = 0
    spark_full_s: float = 0.0
    spark_dbt_s: float = 0.0
    spark_peak_mib: float = 0.0
    # The full build's spill: the most DuckDB's temp_directory held at once.
    full_spill_mib: float = 0.0
    # On a Spark cluster through its Thrift server (--cluster): the full build, the one-day
    # run, their dbt steps, and the peak PSS of the build and every JVM of the cluster.
    cluster_full_s: float = 0.0
    cluster_dbt_s: float = 0.0
    cluster_one_day_s: float = 0.0
    cluster_one_day_dbt_s: float = 0.0
    # The same day again on the near-real-time path (`--headline`: the headline marts and
    # the publish; its deliveries already landed, so its landing finds nothing new).
    cluster_headline_s: float = 0.0
    cluster_peak_mib: float = 0.0
    stages: dict[str, float] = field(default_factory=dict)
    # The one-day run, broken down (process start, definitions, landing, dbt, ...).
    incremental_parts: dict[str, float] = field(default_factory=dict)
    # The near-real-time run of the same day (`build --headline`) and its breakdown.
    headline_s: float = 0.0
    headline_parts: dict[str, float] = field(default_factory=dict)
    # Arrival latency (--latency): seconds from a file's drop into the raw directory to the
    # published headline table rebuilt with it, the arrival sensor running in the daemon.
    arrival_latencies_s: list[float] = field(default_factory=list)

    @property
    def events_per_second(self) -> float:
        return self.event_lines_read / self.full_s if self.full_s else 0.0


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown CPU",
    )
    memory = next(
        int(line.split()[1]) // 2**20
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    return f"{os.cpu_count()} cores ({cpu}), {memory} GiB, Python {platform.python_version()}"


def markdown(results: list[SizeResult], imported: float, when: str, where: str, commit: str) -> str:
    rows = [
        "| size | event lines read | baseline | full build | landing | dbt | publish | full / "
        "baseline | events/s | peak memory (PSS) | cgroup peak | disk spilled | one-day run | "
        "one-day / full | clock +30 d |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        cgroup = f"{r.full_cgroup_peak_mib / 1024:.2f} GiB" if r.full_cgroup_peak_mib else "n/a"
        rows.append(
            f"| {r.size} | {r.event_lines_read:,} | {r.baseline_s:.1f} s | {r.full_s:.1f} s | "
            f"{r.landing_s:.1f} s | {r.dbt_s:.1f} s | {r.publish_s:.1f} s | "
            f"{r.full_s / r.baseline_s:.1f}x | {r.events_per_second:,.0f} | "
            f"{r.full_peak_mib / 1024:.2f} GiB | {cgroup} | {r.full_spill_mib / 1024:.2f} GiB | "
            f"{r.incremental_s:.1f} s | "
            f"{r.incremental_s / r.full_s:.0%} | "
            f"{f'{r.clock_moved_s:.1f} s' if r.clock_moved_s else 'not run'} |"
        )
    repeats = max(r.import_repeats for r in results)
    return "\n".join(
        [
            f"Measured {when} on {where}, commit {commit}.",
            "",
            *rows,
            "",
            "Event lines read: the full build's landing, rows received (loaded + quarantined), "
            "every day but the newest. Events/s: those lines over the full build's wall time. "
            "Peak memory: the proportional set size (PSS) of the build's whole process tree, "
            "sampled every 100 ms (a page two processes share counts once); cgroup peak: the "
            "kernel's peak for a memory cgroup holding the tree, which never misses a short "
            "peak but also counts the page cache its files filled. Disk spilled: the most "
            "DuckDB's temp_directory held at once during the full build (sampled alike).",
            "",
            *peak_markdown(results),
            *baseline_markdown(results),
            "",
            f"Importing the Dagster definitions and loading them: {imported:.2f} s (the best "
            f"of {repeats} timings per size).",
            *one_day_markdown(results),
            *latency_markdown(results),
            *spark_markdown(results),
            *cluster_markdown(results),
        ]
    )


def peak_markdown(results: list[SizeResult]) -> list[str]:
    """What ran when each full build's memory peaked, and which processes held it."""
    lines = [
        f"- {r.size}: {r.full_peak_mib / 1024:.2f} GiB during {r.full_peak_during}; "
        + ", ".join(f"{name} {mib / 1024:.2f} GiB" for name, mib in r.full_peak_processes)
        for r in results
        if r.full_peak_during
    ]
    return (
        ["The full build's memory peak (PSS), what ran then and its largest processes:", *lines, ""]
        if lines
        else []
    )


def baseline_markdown(results: list[SizeResult]) -> list[str]:
    """Whether each size's baseline computed what the platform published."""
    lines = ["The baseline's four marts against the platform's published ones (same raw files):"]
    for r in results:
        verdict = "equal" if r.baseline_equal else "DIFFERENT"
        lines.append(f"- {r.size}: {verdict}. " + "; ".join(r.baseline_comparison))
    return lines


def one_day_markdown(results: list[SizeResult]) -> list[str]:
    """The one-day runs (every table, and the near-real-time path), broken down."""
    measured = [r for r in results if r.incremental_parts]
    if not measured:
        return []
    parts = list(measured[0].incremental_parts)
    rows = [
        "",
        "The newest day's run, broken down (seconds; `build --from D`, every table, and "
        "`build --from D --headline`, the near-real-time path):",
        "",
        "| size | run | total | " + " | ".join(parts) + " |",
        "|---|---|---|" + "---|" * len(parts),
    ]
    for r in measured:
        for name, total, split in (
            ("every table", r.incremental_s, r.incremental_parts),
            ("headline", r.headline_s, r.headline_parts),
        ):
            if not split:  # not run (L keeps no copy of the state it starts from)
                blank = " | ".join("" for _ in parts)
                rows.append(f"| {r.size} | {name} | not run | {blank} |")
                continue
            cells = " | ".join(f"{split.get(part, 0.0):.1f}" for part in parts)
            rows.append(f"| {r.size} | {name} | {total:.1f} s | {cells} |")
    return rows


def percentile(values: list[float], share: float) -> float:
    """The `share` quantile by linear interpolation between the closest ranks."""
    ordered = sorted(values)
    position = share * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def latency_markdown(results: list[SizeResult]) -> list[str]:
    measured = [r for r in results if r.arrival_latencies_s]
    if not measured:
        return []
    rows = [
        "",
        f"Arrival to published headline ({ARRIVALS} files dropped one after another into the "
        "newest day's folder, `make dev`'s daemon running the arrival sensor):",
        "",
        "| size | arrivals | p50 | p95 | fastest | slowest |",
        "|---|---|---|---|---|---|",
    ]
    for r in measured:
        values = r.arrival_latencies_s
        rows.append(
            f"| {r.size} | {len(values)} | {percentile(values, 0.5):.1f} s | "
            f"{percentile(values, 0.95):.1f} s | {min(values):.1f} s | {max(values):.1f} s |"
        )
    return rows


def spark_markdown(results: list[SizeResult]) -> list[str]:
    """The same full build on a local SparkSession (DONGNE_ENGINE=spark), beside DuckDB's."""
    measured = [r for r in results if r.spark_full_s]
    if not measured:
        return []
    rows = [
        "",
        "The full build on Spark (local, DONGNE_ENGINE=spark) beside the same build on DuckDB:",
        "",
        "| size | DuckDB full | Spark full | Spark / DuckDB | DuckDB dbt | Spark dbt | "
        "Spark peak memory (PSS) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in measured:
        rows.append(
            f"| {r.size} | {r.full_s:.1f} s | {r.spark_full_s:.1f} s | "
            f"{r.spark_full_s / r.full_s:.1f}x | {r.dbt_s:.1f} s | {r.spark_dbt_s:.1f} s | "
            f"{r.spark_peak_mib / 1024:.2f} GiB |"
        )
    return rows


def cluster_markdown(results: list[SizeResult]) -> list[str]:
    """The full build and the one-day run on a Spark cluster, beside DuckDB's."""
    measured = [r for r in results if r.cluster_full_s]
    if not measured:
        return []
    rows = [
        "",
        "On a standalone Spark cluster (a master, two workers of 1 core and 2 GiB, a Thrift "
        "server; DONGNE_ENGINE=spark-cluster) beside DuckDB, same data, same machine:",
        "",
        "| size | DuckDB full | cluster full | cluster dbt | DuckDB one-day | cluster one-day "
        "| cluster one-day dbt | cluster one-day / full | cluster headline run | "
        "cluster headline / full | cluster peak memory (PSS, all JVMs) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in measured:
        rows.append(
            f"| {r.size} | {r.full_s:.1f} s | {r.cluster_full_s:.1f} s | {r.cluster_dbt_s:.1f} s | "
            f"{r.incremental_s:.1f} s | {r.cluster_one_day_s:.1f} s | "
            f"{r.cluster_one_day_dbt_s:.1f} s | {r.cluster_one_day_s / r.cluster_full_s:.0%} | "
            + (
                f"{r.cluster_headline_s:.1f} s | {r.cluster_headline_s / r.cluster_full_s:.0%} | "
                if r.cluster_headline_s
                else "not run | | "
            )
            + f"{r.cluster_peak_mib / 1024:.2f} GiB |"
        )
    return rows


def chart(results: list[SizeResult], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    events = [r.event_lines for r in results]
    figure, (times, memory) = plt.subplots(1, 2, figsize=(10, 4))
    times.plot(events, [r.full_s for r in results], "o-", label="full build")
    times.plot(events, [r.baseline_s for r in results], "s--", label="baseline (plain DuckDB)")
    times.plot(events, [r.incremental_s for r in results], "^-", label="one-day run")
    times.set(xscale="log", yscale="log", xlabel="event lines", ylabel="seconds", title="Time")
    times.legend()
    memory.plot(events, [r.full_peak_mib / 1024 for r in results], "o-", label="full build")
    memory.plot(events, [r.baseline_peak_mib / 1024 for r in results], "s--", label="baseline")
    memory.axhline(TARGETS["peak_memory_gib"], color="grey", linestyle=":", label="4 GiB target")
    memory.set(xscale="log", xlabel="event lines", ylabel="GiB", title="Peak memory (process tree)")
    memory.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
