"""Where a build's seconds go: phases measured inside the build process.

`make run` writes them beside its log (`<data>/logs/build-<time>.timings.json`), so a
slow run can be read without a profiler; `make bench` reads them, with the run's step
times, to break a run down into process start, definitions, landing, dbt, metadata,
publish and the rest. Phases are wall-clock seconds from `time.perf_counter`;
`process_age` counts from the moment the interpreter started (read from /proc on Linux),
so the import of Python and the platform's libraries shows too.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_phases: dict[str, float] = {}


def process_age() -> float:
    """Seconds since this process started (0.0 where /proc cannot tell)."""
    try:
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        started = int(fields[19]) / os.sysconf("SC_CLK_TCK")
        uptime = float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0.0
    return max(0.0, uptime - started)


@contextmanager
def phase(name: str) -> Iterator[None]:
    """Add the block's seconds to phase `name` (a phase may be entered several times)."""
    began = time.perf_counter()
    try:
        yield
    finally:
        _phases[name] = _phases.get(name, 0.0) + time.perf_counter() - began


def record(name: str, seconds: float) -> None:
    _phases[name] = _phases.get(name, 0.0) + seconds


def phases() -> dict[str, float]:
    return {name: round(seconds, 3) for name, seconds in _phases.items()}


def write(path: Path, **extra: object) -> None:
    """The phases so far, with `extra` facts (run id, window, total), as JSON at `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({**extra, "phases": phases()}, indent=2) + "\n")
