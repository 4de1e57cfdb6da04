"""python -m dongne_sample: write a raw delivery of any size (see the package docstring)."""

from __future__ import annotations

import argparse
import time
from datetime import date
from pathlib import Path

from dongne_sample import MIN_DAYS, generate, users_for_events


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m dongne_sample", description=__doc__)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--users", type=int, help="how many users (default 220)")
    size.add_argument("--events", type=int, help="about how many event lines (sets --users)")
    parser.add_argument("--days", type=int, default=42)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--start", type=date.fromisoformat, default=date(2026, 9, 1), help="first KST day"
    )
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.days < MIN_DAYS:
        parser.error(f"--days must be at least {MIN_DAYS}: incidents need four weeks of history")
    users = users_for_events(args.events, args.days) if args.events else (args.users or 220)
    began = time.perf_counter()
    counts = generate(args.out, users, args.days, args.seed, args.start)
    summary = ", ".join(f"{key}={value:,}" for key, value in sorted(counts.items()))
    print(f"wrote {args.out} ({users:,} users, {time.perf_counter() - began:.1f} s): {summary}")


if __name__ == "__main__":
    main()
