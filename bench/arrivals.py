"""Arrival latency: delivery files dropped into the raw directory one after another while
`make dev`'s daemon runs the arrival sensor, timed from each drop to the publish of a
headline table rebuilt after it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.data import deliver_day
from bench.measure import REPO, base_env
from orchestration.settings import venv_tool

ARRIVALS = 10


def arrival_chunks(raw: Path, day: str, count: int) -> list[bytes]:
    """The event lines of `day`'s delivery cut into `count` files' worth (in order)."""
    import gzip

    lines: list[bytes] = []
    for path in sorted((raw / "events" / day).glob("*.jsonl*")):
        opener = gzip.open if path.name.endswith(".gz") else open
        with opener(path, "rb") as handle:
            lines.extend(handle.read().splitlines(keepends=True))
    size = -(-len(lines) // count)
    return [b"".join(lines[i : i + size]) for i in range(0, len(lines), size)]


def published_refresh(analytics: Path, table: str) -> datetime | None:
    """When the published `table` was last rebuilt (marts.publish_tables), None if unread."""
    import duckdb

    try:
        with duckdb.connect(str(analytics), read_only=True) as con:
            row = con.execute(
                "select refreshed_at_utc from marts.publish_tables where table_name = ?", [table]
            ).fetchone()
    except duckdb.Error:
        return None
    return row[0] if row else None


def arrival_latency(raw: Path, history: Path, data: Path, day: str, work: Path) -> list[float]:
    """`make dev`'s daemon watches `history` (every delivery but `day`, already built in
    `data`); `day`'s delivery arrives as ARRIVALS files, one after another, each once the
    previous one is published. Returns, per file, the seconds from its drop to a publish
    whose headline table (marts.fct_daily_active_users) was rebuilt after the drop."""
    env = base_env(history, data)
    home = (
        subprocess.run(
            [sys.executable, "-m", "orchestration.cli", "dagster-home"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            cwd=REPO,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    env["DAGSTER_HOME"] = home
    log = work / "arrival-daemon.log"
    daemon_bin = venv_tool("dagster-daemon")
    with log.open("w") as output:
        daemon = subprocess.Popen(
            [daemon_bin, "run", "-w", str(REPO / "workspace.yaml")],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=REPO,
            start_new_session=True,
        )
    latencies: list[float] = []
    try:
        first_tick = time.monotonic() + 300
        while "no new raw files" not in log.read_text():
            if time.monotonic() > first_tick or daemon.poll() is not None:
                raise RuntimeError(f"the daemon's arrival sensor never ticked (see {log})")
            time.sleep(1)
        analytics = data / "analytics.duckdb"
        for n, chunk in enumerate(arrival_chunks(raw, day, ARRIVALS)):
            if n == 0:
                deliver_day(raw, history, day)  # the day's exports, and its event files ...
                for path in (history / "events" / day).glob("*.jsonl*"):
                    path.unlink()  # ... which arrive below, cut in pieces
            folder = history / "events" / day
            folder.mkdir(parents=True, exist_ok=True)
            aside = folder / f".arrival-{n:02d}.tmp"
            aside.write_bytes(chunk)
            dropped = datetime.now(UTC).replace(tzinfo=None)
            began = time.perf_counter()
            aside.rename(folder / f"arrival-{n:02d}.jsonl")  # whole, or not there
            while True:
                refreshed = published_refresh(analytics, "marts.fct_daily_active_users")
                if refreshed is not None and refreshed > dropped:
                    latencies.append(round(time.perf_counter() - began, 2))
                    break
                if time.perf_counter() - began > 300 or daemon.poll() is not None:
                    raise RuntimeError(f"arrival {n} was not published in 300 s (see {log})")
                time.sleep(0.2)
            print(f"  arrival {n + 1}: published in {latencies[-1]:.1f} s")
    finally:
        os.killpg(daemon.pid, signal.SIGINT)
        try:
            daemon.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(daemon.pid, signal.SIGKILL)
            daemon.wait()
    return latencies
