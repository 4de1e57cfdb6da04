"""The benchmark's data: generated once per size and cached, the newest delivery day held
back and delivered later, build directories saved and restored."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

SIZES = {"XS": 20_000, "S": 1_000_000, "M": 10_000_000, "L": 100_000_000}
DAYS = {"XS": 36, "S": 60, "M": 60, "L": 60}
SEED = 1


def sample_data(cache: Path, size: str) -> tuple[Path, int]:
    """The generated raw directory of a size (made once, then reused) and its line count."""
    from dongne_sample import generate, users_for_events

    events, days = SIZES[size], DAYS[size]
    users = users_for_events(events, days)
    folder = cache / f"{size}-{users}u-{days}d-seed{SEED}"
    stamp = folder / ".generated.json"
    if not stamp.exists():
        print(f"[{size}] generating about {events:,} event lines ({users:,} users) ...")
        began = time.perf_counter()
        counts = generate(folder / "raw", users=users, days=days, seed=SEED)
        counts["generate_seconds"] = round(time.perf_counter() - began, 1)
        stamp.write_text(json.dumps(counts))
    return folder / "raw", int(json.loads(stamp.read_text())["event_lines"])


def split_newest_day(raw: Path, target: Path) -> str:
    """Hard-link every file of `raw` into `target` except the newest delivery day's; return
    that day (delivered later, by `deliver_day`)."""
    from orchestration.landing import delivery_days

    newest = delivery_days(raw)[-1]
    if target.exists():
        shutil.rmtree(target)
    for path in raw.rglob("*"):
        if path.is_file() and newest not in path.relative_to(raw).as_posix():
            link = target / path.relative_to(raw)
            link.parent.mkdir(parents=True, exist_ok=True)
            os.link(path, link)
    return newest


def deliver_day(raw: Path, target: Path, day: str) -> None:
    for path in raw.rglob("*"):
        relative = path.relative_to(raw)
        if path.is_file() and day in relative.as_posix() and not (target / relative).exists():
            (target / relative).parent.mkdir(parents=True, exist_ok=True)
            os.link(path, target / relative)


def restore(saved: Path, data: Path) -> None:
    shutil.rmtree(data, ignore_errors=True)
    shutil.copytree(saved, data)
