"""Where a build's memory peak happened: the Dagster step running at that moment and, in
the dbt step, the models and tests dbt was executing (from the run's run_results.json)."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path


def _seconds(stamp: str) -> float:
    """An ISO time from dbt's run_results.json (UTC, with or without a trailing Z)."""
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def dbt_nodes_running(data: Path, at: float) -> list[str]:
    """The dbt nodes whose execution spans `at`, over every dbt invocation of the data
    directory (data/dbt/runs/<step>-<run>-<attempt>/run_results.json)."""
    running = []
    for results in sorted((data / "dbt" / "runs").glob("*/run_results.json")):
        for node in json.loads(results.read_text()).get("results", []):
            for timing in node.get("timing", []):
                if timing.get("name") != "execute" or not timing.get("started_at"):
                    continue
                began = _seconds(timing["started_at"])
                ended = _seconds(timing["completed_at"])
                if began <= at <= ended:
                    running.append(node["unique_id"].split(".", 2)[-1])
    return running


def latest_run_steps(data: Path) -> list[tuple[str, float, float]]:
    """The finished steps of the latest run in a data directory's Dagster instance: key,
    start and end (seconds since the epoch)."""
    from dagster import DagsterInstance

    os.environ["DAGSTER_HOME"] = str(data / "dagster_home")  # where its event log lives
    with DagsterInstance.from_config(str(data / "dagster_home")) as instance:
        (run,) = instance.get_runs(limit=1)
        stats = instance.get_run_step_stats(run.run_id)
    return [(s.step_key, s.start_time, s.end_time) for s in stats if s.start_time and s.end_time]


def peak_during(data: Path, at: float) -> str:
    """In words: the step (and dbt nodes) of the latest run in `data` running at `at`."""
    if not at:
        return "not measured"
    steps = latest_run_steps(data)
    running = [key for key, began, ended in steps if began <= at <= ended]
    if not running:
        return "outside every step (process start, definitions, the summary)"
    words = ", ".join(running)
    if any(step.startswith("dongne_dbt") for step in running):
        nodes = dbt_nodes_running(data, at)
        words += f" ({', '.join(nodes) if nodes else 'between dbt nodes'})"
    return words
