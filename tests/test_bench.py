"""`make bench` at its smallest size (seconds of data, a few builds): the benchmark runs
end to end and reports what it promises, so the script cannot rot."""

from __future__ import annotations

import json
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bench import peak, report
from bench import run as bench


@pytest.mark.slow
def test_the_benchmark_measures_every_figure_at_the_smallest_size(tmp_path: Path) -> None:
    results = tmp_path / "results"
    # --quick: not the second full build with the clock moved (the same command with
    # DONGNE_TODAY set), to keep the suite short.
    arguments = ["--sizes", "XS", "--quick", "--results", str(results), "--data", str(tmp_path)]
    assert bench.main(arguments) == 0
    report = json.loads((results / "latest.json").read_text())
    (size,) = report["sizes"]
    assert size["size"] == "XS" and size["event_lines"] > 10_000
    for figure in ("baseline_s", "full_s", "incremental_s", "import_s"):
        assert 0 < size[figure] < 600, figure
    assert size["clock_moved_s"] == 0
    # Stage times come from the build's own Dagster run, and fit inside the wall time.
    assert min(size["landing_s"], size["dbt_s"], size["publish_s"]) > 0
    assert size["landing_s"] + size["dbt_s"] + size["publish_s"] < size["full_s"]
    assert 100 < size["full_peak_mib"] < 8 * 1024 and size["baseline_peak_mib"] > 10
    # The peak says what ran then: a step of the build's run, and its largest processes.
    assert (
        size["full_peak_during"]
        .split(" ")[0]
        .startswith(("raw_", "dongne_dbt", "analytics_db", "moderation_classifier", "outside"))
    ), size["full_peak_during"]
    assert size["full_peak_processes"][0][1] > 50, size["full_peak_processes"]
    # The lines the build read: every day's but the newest, held back for the one-day run.
    assert 0.8 * size["event_lines"] < size["event_lines_read"] < size["event_lines"]
    assert size["events_per_second"] == pytest.approx(size["event_lines_read"] / size["full_s"])
    # The baseline computed what the platform published, or the ratio would mislead.
    assert size["baseline_equal"], size["baseline_comparison"]
    assert len(size["baseline_comparison"]) == 4
    # The results name their run: when, where, which code.
    assert report["commit"] and report["machine"] and report["measured_at"]
    assert f"commit {report['commit']}" in (results / "latest.md").read_text()
    # ... and the DuckDB memory limit every build and the baseline ran with.
    assert report["duckdb_memory_limit"] == "3GB"
    assert "DuckDB memory_limit 3GB" in (results / "latest.md").read_text()
    table = (results / "latest.md").read_text()
    assert "| XS | " in table and "Importing the Dagster definitions" in table
    assert "| not run |" in table  # the clock column, said plainly
    assert "disk spilled" in table and size["full_spill_mib"] >= 0
    # The one-day runs, broken down into parts that add up to their wall time.
    for run, parts in (("incremental_s", "incremental_parts"), ("headline_s", "headline_parts")):
        assert 0 < size[run] < 600, run
        assert size[parts]["dbt"] > 0 and size[parts]["landing"] > 0, parts
        assert sum(size[parts].values()) == pytest.approx(size[run], abs=0.1), parts
    assert "| XS | headline |" in table
    assert (results / "latest.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_process_tree_memory_counts_children(tmp_path: Path) -> None:
    """A child holding 200 MB shows in its parent's tree, not only in itself."""
    script = "import sys, time; block = bytearray(200 * 2**20); time.sleep(1.5)"
    measured = bench.measure(
        ["python3", "-c", f"import subprocess; subprocess.run(['python3', '-c', {script!r}])"],
        env={"PATH": "/usr/bin:/bin"},
        log=tmp_path / "log",
    )
    assert measured.returncode == 0
    assert measured.peak_mib > 200  # PSS
    # At the peak, the child holding the block is the largest process, and the moment is
    # inside the command's run.
    name, mib = measured.peak_processes[0]
    assert name == "python3" and mib > 200, measured.peak_processes
    assert time.time() - 30 < measured.peak_at < time.time()
    # Where the bench may make a memory cgroup (root here), the kernel's peak agrees.
    assert measured.cgroup_peak_mib == 0 or measured.cgroup_peak_mib > 200


def test_the_peak_names_the_dbt_nodes_executing_at_that_moment(tmp_path: Path) -> None:
    """dbt's run_results.json times each node's execution (UTC, 'Z'): the nodes whose
    execution spans the moment are named, those before and after are not."""
    runs = tmp_path / "dbt" / "runs" / "dongne_dbt_models-run-1"
    runs.mkdir(parents=True)

    def node(name: str, began: str, ended: str) -> dict[str, object]:
        return {
            "unique_id": f"model.dongne.{name}",
            "timing": [
                {"name": "compile", "started_at": began, "completed_at": began},
                {"name": "execute", "started_at": began, "completed_at": ended},
            ],
        }

    results = [
        node("stg_events", "2026-12-02T23:10:00.000000Z", "2026-12-02T23:11:00.000000Z"),
        node("fct_sessions", "2026-12-02T23:11:00.500000Z", "2026-12-02T23:15:00.000000Z"),
        node("dim_users", "2026-12-02T23:15:01.000000Z", "2026-12-02T23:15:02.000000Z"),
    ]
    (runs / "run_results.json").write_text(json.dumps({"results": results}))
    at = datetime(2026, 12, 2, 23, 12, tzinfo=UTC).timestamp()
    assert peak.dbt_nodes_running(tmp_path, at) == ["fct_sessions"]
    # Nine hours later in a KST reading of the same stamps would name nothing.
    assert peak.dbt_nodes_running(tmp_path, at + 9 * 3600) == []


def test_the_cluster_table_gives_each_run_against_the_full_build() -> None:
    """The cluster's row: full build, one-day run and near-real-time run, each one-day
    figure also as a share of the full build; a run not made says so."""
    measured = report.SizeResult(
        size="S", event_lines=1, days=1, full_s=40.0, incremental_s=30.0, cluster_full_s=400.0,
        cluster_dbt_s=380.0, cluster_one_day_s=200.0, cluster_one_day_dbt_s=190.0,
        cluster_headline_s=100.0, cluster_peak_mib=4096.0,
    )  # fmt: skip
    (row,) = [line for line in report.cluster_markdown([measured]) if line.startswith("| S ")]
    assert "| 400.0 s |" in row and "| 200.0 s |" in row and "| 50% |" in row
    assert "| 100.0 s | 25% |" in row and row.endswith("| 4.00 GiB |")
    measured.cluster_headline_s = 0.0
    (row,) = [line for line in report.cluster_markdown([measured]) if line.startswith("| S ")]
    assert "| not run |" in row


def test_latency_percentiles_interpolate_between_ranks() -> None:
    values = [10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 100.0]
    assert report.percentile(values, 0.5) == 55.0
    assert report.percentile(values, 0.95) == pytest.approx(95.5)
    assert report.percentile([3.0], 0.95) == 3.0


def test_processes_the_command_did_not_start_count_when_named(tmp_path: Path) -> None:
    """A cluster's JVMs are not the build's children: named in `also`, a separate process
    holding 200 MB counts in the peak; unnamed, it does not."""
    script = "import time; block = bytearray(200 * 2**20); time.sleep(30)"
    holder = subprocess.Popen(["python3", "-c", script])
    try:
        time.sleep(1.5)  # its block allocated
        command = ["python3", "-c", "import time; time.sleep(1)"]
        named = bench.measure(
            command, {"PATH": "/usr/bin:/bin"}, tmp_path / "a", also=lambda: [holder.pid]
        )
        unnamed = bench.measure(command, {"PATH": "/usr/bin:/bin"}, tmp_path / "b")
    finally:
        holder.kill()
        holder.wait()
    assert named.peak_mib > 200 > unnamed.peak_mib


def test_the_spill_folder_peak_is_the_most_it_held(tmp_path: Path) -> None:
    """DuckDB's temp files come and go within a build: the peak is what the folder held at
    its fullest, though it is empty at the end."""
    spill = tmp_path / "tmp"
    spill.mkdir()
    script = (
        f"import pathlib, time; f = pathlib.Path(r'{spill}') / 'spill.tmp'; "
        "f.write_bytes(b'x' * 50 * 2**20); time.sleep(1); f.unlink()"
    )
    measured = bench.measure(
        ["python3", "-c", script], {"PATH": "/usr/bin:/bin"}, tmp_path / "log", spill=spill
    )
    assert measured.returncode == 0 and not any(spill.iterdir())
    assert measured.spill_peak_mib == pytest.approx(50, abs=1)
