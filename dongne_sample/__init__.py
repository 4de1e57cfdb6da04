"""The sample-data generator: raw deliveries of Dongne Market in the raw-source layout.

Fast at any size (vectorised with NumPy, written by DuckDB, day by day so memory stays
bounded) and full of the raw-source contract's edge cases (see `deliveries` and
`bad_input`; the kinds of bad input it does not plant, tests/test_bad_input.py
delivers). Deterministic: the same arguments write the same rows.

    python -m dongne_sample --users 220 --days 42 --seed 7 --out seeds
    python -m dongne_sample --events 10000000 --days 60 --out /tmp/raw   # about 10M lines

Modules: `world` (places, goods, texts, people), `state` (what a day hands on: event
chunks, row versions, the calendar), `simulation` (what people do, day by day: the shared
state, and the order in which the per-domain modules `sessions`, `listings`, `board`,
`experiments` and `trades` run), `moderation` (labels), `deliveries` (the collector's and
export job's files), `bad_input` (what goes wrong upstream, on purpose).
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import date
from pathlib import Path

import numpy as np

from dongne_sample.deliveries import Collector, write_reference
from dongne_sample.simulation import Simulation
from dongne_sample.state import Calendar
from dongne_sample.world import MIN_DAYS, make_users, users_for_events

__all__ = ["MIN_DAYS", "generate", "users_for_events"]


def generate(
    out: Path,
    users: int = 220,
    days: int = 42,
    seed: int = 7,
    start: date = date(2026, 9, 1),
) -> dict[str, int]:
    """Write a full raw delivery under `out` (replacing what is there); return line counts."""
    if days < MIN_DAYS:
        raise ValueError(f"days must be at least {MIN_DAYS}: incidents need four weeks of history")
    rng = np.random.default_rng(seed)
    calendar = Calendar(start=start, days=days)
    people = make_users(rng, users, start, days)
    anonymous = rng.integers(0, 2**32, size=max(40, users // 5), dtype=np.int64)
    simulation = Simulation(rng=rng, users=people, calendar=calendar, anonymous_devices=anonymous)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    with tempfile.TemporaryDirectory(prefix="dongne-sample-") as scratch:
        collector = Collector(np.random.default_rng([seed, 1]), calendar, Path(scratch))
        try:
            for chunk, versions in simulation.days():
                collector.add_events(chunk)
                collector.add_versions(versions)
            collector.write_events(out)
            collector.write_exports(out, people)
        finally:
            collector.close()
    write_reference(out, calendar)
    return dict(collector.counts)
