"""An independent, deliberately plain implementation of SOURCES.md + MARTS.md.

It shares no code with the platform (no DuckDB, no SQL): Python's json, csv and
datetime read the raw files line by line. Tests compare the published marts with it
on generated data, the way the contract's own checker compares them.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

KST = timezone(timedelta(hours=9))
REQUIRED = ("event_id", "event_name", "device_id", "occurred_at", "received_at")


def _text(path: Path) -> str:
    data = path.read_bytes()
    return (gzip.decompress(data) if path.name.endswith(".gz") else data).decode("utf-8")


def _instant(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def valid_events(raw: Path) -> list[dict]:
    """Loaded, de-duplicated events with their KST event time."""
    best: dict[str, tuple] = {}
    for path in sorted(raw.glob("events/*/*.jsonl*")):
        for number, line in enumerate(_text(path).split("\n"), start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                continue
            if not isinstance(obj, dict) or any(obj.get(k) in (None, "") for k in REQUIRED):
                continue
            occurred, received = _instant(obj["occurred_at"]), _instant(obj["received_at"])
            user = obj.get("user_id")
            if occurred is None or received is None:
                continue
            if user is not None and (isinstance(user, bool) or not isinstance(user, int)):
                continue
            key = (received, path.relative_to(raw).as_posix(), number)
            if obj["event_id"] not in best or key < best[obj["event_id"]][0]:
                best[obj["event_id"]] = (key, obj, occurred, received)
    events = []
    for _, obj, occurred, received in best.values():
        moment = received if occurred - received > timedelta(minutes=5) else occurred
        local = moment.astimezone(KST).replace(tzinfo=None)
        events.append(
            {
                "event_id": obj["event_id"],
                "user_id": obj.get("user_id"),
                "device_id": obj["device_id"],
                "event_at": local,
                "event_date": local.date(),
            }
        )
    return events


def current_rows(
    raw: Path, table: str, key: str, ints: tuple[str, ...], stamps: tuple[str, ...]
) -> dict[int, dict]:
    """Current state per SOURCES.md: latest updated_at, a tie to the later file."""
    latest: dict[int, tuple] = {}
    for path in sorted(raw.glob(f"db/{table}/*.csv*")):
        reader = csv.DictReader(io.StringIO(_text(path), newline=""))
        if reader.fieldnames is None or any(
            c not in reader.fieldnames for c in (key, *ints, *stamps)
        ):
            continue
        for number, row in enumerate(reader, start=2):
            try:
                if not (row.get(key) or "").strip():
                    continue
                parsed = dict(row)
                for column in ints:
                    parsed[column] = int(row[column]) if row[column] else None
                for column in stamps:
                    parsed[column] = (
                        datetime.strptime(row[column], "%Y-%m-%d %H:%M:%S") if row[column] else None
                    )
            except (ValueError, TypeError):
                continue
            order = (parsed["updated_at"] or datetime.min, path.name.split(".")[0], number)
            if parsed[key] not in latest or order >= latest[parsed[key]][0]:
                latest[parsed[key]] = (order, parsed)
    return {pk: row for pk, (_, row) in latest.items()}


def marts(raw: Path) -> dict[str, list[tuple]]:
    events = valid_events(raw)
    first, last = min(e["event_date"] for e in events), max(e["event_date"] for e in events)
    calendar = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    active: dict[date, set[int]] = defaultdict(set)
    for e in events:
        if e["user_id"] is not None:
            active[e["event_date"]].add(e["user_id"])

    def window(day: date, days: int) -> set[int]:
        users: set[int] = set()
        for n in range(days):
            users |= active.get(day - timedelta(days=n), set())
        return users

    dau = [(d, len(active[d]), len(window(d, 7)), len(window(d, 28))) for d in calendar]
    first_day: dict[int, date] = {}
    for d in sorted(active):
        for user in active[d]:
            first_day.setdefault(user, d)
    growth = []
    for d in calendar:
        today, yesterday = active.get(d, set()), active.get(d - timedelta(days=1), set())
        growth.append(
            (
                d,
                sum(first_day[u] == d for u in today),
                len(today & yesterday),
                sum(u not in yesterday and first_day[u] < d - timedelta(days=1) for u in today),
                len(yesterday - today),
            )
        )
    by_key: dict[str, list[dict]] = defaultdict(list)
    for e in events:
        key = f"u{e['user_id']}" if e["user_id"] is not None else f"d{e['device_id']}"
        by_key[key].append(e)
    sessions = []
    for items in by_key.values():
        items.sort(key=lambda e: (e["event_at"], e["event_id"]))
        current: list[dict] = []
        for e in items:
            if current and (e["event_at"] - current[-1]["event_at"]).total_seconds() > 1800:
                sessions.append(current)
                current = []
            current.append(e)
        sessions.append(current)
    session_rows = [
        (
            s[0]["user_id"],
            s[0]["device_id"],
            s[0]["event_at"],
            s[-1]["event_at"],
            s[0]["event_at"].date(),
            round((s[-1]["event_at"] - s[0]["event_at"]).total_seconds(), 6),
            len(s),
        )
        for s in sessions
    ]
    listings = current_rows(
        raw,
        "listings",
        "listing_id",
        ("listing_id", "seller_id", "category_id", "region_id", "price_krw"),
        ("created_at", "updated_at"),
    )
    trades = current_rows(
        raw,
        "trades",
        "trade_id",
        ("trade_id", "listing_id", "buyer_id", "seller_id", "price_krw"),
        ("completed_at", "updated_at"),
    )
    marketplace = []
    for d in calendar:
        created = sum(
            1 for row in listings.values() if row["created_at"] and row["created_at"].date() == d
        )
        done = [
            row
            for row in trades.values()
            if row["status"] == "completed"
            and row["completed_at"]
            and row["completed_at"].date() == d
        ]
        marketplace.append((d, created, len(done), sum(row["price_krw"] or 0 for row in done)))
    return {
        "fct_daily_active_users": dau,
        "fct_growth_accounting": growth,
        "fct_sessions": session_rows,
        "fct_daily_marketplace": marketplace,
    }
