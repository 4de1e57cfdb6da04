"""Who writes the lake and the warehouse, seen from the operating system.

`watch_writers` walks, again and again (a 5 ms pause between walks), the open files of
the processes it is given and of all their descendants (dbt's subprocesses included), and
records each file of the pool-guarded set (the lake, warehouse.duckdb and the published
analytics.duckdb with their temporary files) that a process holds open for writing, with
the moment it was seen. `steps_that_wrote` then names, from the run's own event log, the
step that was running at that moment.

What it cannot see: a file opened and closed between two walks, and what changes no open
file (a rename, a deletion, a new folder). The writers of this platform hold a DuckDB
connection or a dbt invocation open for a few hundred milliseconds at least, and every
step that writes the lake writes Parquet through DuckDB, so each is seen; a short write
alone (a small journal file) could slip through.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from dagster import DagsterEventType, DagsterInstance

from bench.measure import tree_pids  # a process and its descendants, from /proc

SAMPLE_SECONDS = 0.005
OUTSIDE_ANY_STEP = "(outside any step)"


@dataclass(frozen=True)
class Write:
    """At `at` (epoch seconds, taken once the descriptor was read), in walk number `walk`,
    process `pid`, a descendant of `root`, held `path` open for writing."""

    at: float
    walk: int
    root: int
    pid: int
    path: str


def is_guarded(path: str, data_dir: Path) -> bool:
    """Whether the warehouse pool guards `path`: the lake and the two DuckDB files."""
    file = Path(path)
    if file.is_relative_to(data_dir / "lake"):
        return True
    names = ("warehouse.duckdb", "analytics.duckdb", ".analytics.duckdb")
    return file.parent == data_dir and file.name.startswith(names)


def _written(pid: int, data_dir: Path) -> list[tuple[float, str]]:
    """The guarded files `pid` holds open for writing (O_WRONLY or O_RDWR), each with the
    moment its descriptor was read."""
    paths = []
    try:
        descriptors = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return paths
    for fd in descriptors:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
            if not target.startswith("/") or not is_guarded(target, data_dir):
                continue
            info = Path(f"/proc/{pid}/fdinfo/{fd}").read_text()
        except OSError:  # closed meanwhile
            continue
        flags = next(int(v.split()[1], 8) for v in info.splitlines() if v.startswith("flags:"))
        if (flags & os.O_ACCMODE) in (os.O_WRONLY, os.O_RDWR):
            paths.append((time.time(), target))
    return paths


@contextmanager
def watch_writers(roots: list[int], data_dir: Path) -> Iterator[list[Write]]:
    """Sample the writes of `roots` (a list the block may extend) and their descendants
    under `data_dir` until the block ends; the yielded list fills as they are seen."""
    seen: list[Write] = []
    samples = [0]
    stop = threading.Event()
    data_dir = data_dir.resolve()  # as /proc names the files

    def sample() -> None:
        while not stop.is_set():
            walk = samples[0]
            for root in list(roots):
                for pid in tree_pids(root):
                    written = _written(pid, data_dir)
                    seen.extend(Write(at, walk, root, pid, path) for at, path in written)
            samples[0] += 1
            stop.wait(SAMPLE_SECONDS)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield seen
    finally:
        stop.set()
        sampler.join()
    assert samples[0] > 0, "the writers were never sampled"


def step_windows(instance: DagsterInstance, run_id: str) -> dict[str, tuple[float, float]]:
    """Each step of the run: when it started and when it ended (its event log's times)."""
    started: dict[str, float] = {}
    windows: dict[str, tuple[float, float]] = {}
    ends = {DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE}
    for record in instance.all_logs(run_id):
        event = record.dagster_event
        if event is None or event.step_key is None:
            continue
        if event.event_type == DagsterEventType.STEP_START:
            started[event.step_key] = record.timestamp
        elif event.event_type in ends and event.step_key in started:
            windows[event.step_key] = (started[event.step_key], record.timestamp)
    return windows


def steps_that_wrote(writes: Iterable[Write], windows: dict[str, tuple[float, float]]) -> set[str]:
    """The steps running when `writes` (all of one run, whose steps run one at a time)
    were seen; a write seen while no step ran counts as OUTSIDE_ANY_STEP."""
    steps = set()
    for write in writes:
        running = [step for step, (start, end) in windows.items() if start <= write.at <= end]
        steps.update(running or [OUTSIDE_ANY_STEP])
    return steps


def overlapping_writes(writes: Iterable[Write]) -> list[tuple[int, set[int]]]:
    """The walks in which processes of more than one root held guarded files for writing.
    (Within one walk, a file could close just before another opens; a pool hands its
    slot on only after the step holding it ended, far longer than a walk.)"""
    by_walk: dict[int, set[int]] = {}
    for write in writes:
        by_walk.setdefault(write.walk, set()).add(write.root)
    return sorted((walk, roots) for walk, roots in by_walk.items() if len(roots) > 1)


def pools_of(assets: Iterable[object]) -> dict[str, str | None]:
    """Each asset step (its op's name) and the concurrency pool it runs in."""
    return {a.node_def.name: a.node_def.pool for a in assets}  # type: ignore[attr-defined]


def writers_outside_the_pool(
    steps: Iterable[str], pools: dict[str, str | None], pool: str
) -> list[str]:
    """The steps seen writing guarded files that do not run in `pool` (a write seen outside
    any step counts: nothing serialises it)."""
    return sorted(step for step in steps if pools.get(step) != pool)
