"""An independent, deliberately plain implementation of docs/sources.md + docs/marts.md.

It shares no code with the platform (no DuckDB, no SQL): Python's json, csv and
datetime read the raw files line by line. Tests compare the published marts with it
on generated data, the way the contract's own checker compares them. The `ml` tables are
in tests/oracle_ml.py, the complete days, metric anomalies and experiment decisions in
tests/oracle_readouts.py, both built on this module's reading of the raw files.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import hmac
import io
import json
import math
import unicodedata
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


def _blank(value: object) -> bool:
    """Missing, null, or a text of nothing but spaces (Unicode's space separators, Zs: the
    ideographic space of a Korean keyboard included; a tab is not a space)."""
    if value is None:
        return True
    return isinstance(value, str) and all(unicodedata.category(c) == "Zs" for c in value)


def parse_event_line(line: str) -> tuple[dict, datetime, datetime] | None:
    """An event line as docs/sources.md accepts it (the object, occurred_at, received_at),
    or None when it is quarantined."""
    if not line.strip():
        return None
    try:
        obj = json.loads(line)
    except json.JSONDecodeError:
        return None
    if not isinstance(obj, dict) or any(_blank(obj.get(k)) for k in REQUIRED):
        return None
    occurred, received = _instant(obj["occurred_at"]), _instant(obj["received_at"])
    user = obj.get("user_id")
    if occurred is None or received is None:
        return None
    if user is not None and (
        isinstance(user, bool) or not isinstance(user, int) or not -(2**63) <= user < 2**63
    ):
        return None
    return obj, occurred, received


def valid_events(raw: Path) -> list[dict]:
    """Loaded, de-duplicated events with their KST event time."""
    best: dict[str, tuple] = {}
    for path in sorted(raw.glob("events/*/*.jsonl*")):
        for number, line in enumerate(_text(path).split("\n"), start=1):
            parsed = parse_event_line(line)
            if parsed is None:
                continue
            obj, occurred, received = parsed
            key = (received, path.relative_to(raw).as_posix(), number)
            if obj["event_id"] not in best or key < best[obj["event_id"]][0]:
                best[obj["event_id"]] = (key, obj, occurred, received)
    events = []
    for _, obj, occurred, received in best.values():
        moment = received if occurred - received > timedelta(minutes=5) else occurred
        local = moment.astimezone(KST).replace(tzinfo=None)
        props = obj.get("properties") if isinstance(obj.get("properties"), dict) else {}
        listing = props.get("listing_id")
        events.append(
            {
                "event_id": obj["event_id"],
                "received_at": received.astimezone(KST).replace(tzinfo=None),
                "user_id": obj.get("user_id"),
                "device_id": obj["device_id"],
                "event_at": local,
                "event_date": local.date(),
                "event_name": obj["event_name"],
                "listing_id": listing if isinstance(listing, int) else None,
            }
        )
    return events


def all_rows(
    raw: Path,
    table: str,
    key: str | None,
    ints: tuple[str, ...],
    stamps: tuple[str, ...],
    folder: str = "db",
) -> list[tuple[tuple, dict]]:
    """Every valid row of a CSV source with its (file date, line) position."""
    rows = []
    pattern = f"db/{table}/*.csv*" if folder == "db" else f"reference/{table}.csv"
    for path in sorted(raw.glob(pattern)):
        reader = csv.DictReader(io.StringIO(_text(path).lstrip("\ufeff"), newline=""))
        if reader.fieldnames is None:
            continue
        for number, row in enumerate(reader, start=2):
            try:
                if key and not (row.get(key) or "").strip():
                    continue
                parsed = dict(row)
                for column in ints:
                    parsed[column] = int(row[column]) if row[column] else None
                for column in stamps:
                    parsed[column] = _local_time(row[column]) if row[column] else None
            except (ValueError, TypeError):
                continue
            rows.append(((path.name.split(".")[0], number), parsed))
    return rows


def _local_time(text: str) -> datetime:
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise ValueError(text)


def current_rows(
    raw: Path, table: str, key: str, ints: tuple[str, ...], stamps: tuple[str, ...]
) -> dict[int, dict]:
    """Current state per docs/sources.md: latest updated_at, a tie to the later file."""
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


def person_key(value: object, salt: str) -> str | None:
    """The contract's key of a person's id: hex HMAC-SHA256 of its text, keyed with the
    salt (the standard library's, not the platform's code)."""
    if value is None:
        return None
    return hmac.new(salt.encode(), str(value).encode(), hashlib.sha256).hexdigest()


def marts(raw: Path, salt: str) -> dict[str, list[tuple]]:
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
            person_key(s[0]["user_id"], salt),
            person_key(s[0]["device_id"], salt),
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


USER_INTS = ("user_id", "region_id")
LISTING_INTS = ("listing_id", "seller_id", "category_id", "region_id", "price_krw")
TRADE_INTS = ("trade_id", "listing_id", "buyer_id", "seller_id", "price_krw")


def completed_trades(raw: Path) -> list[dict]:
    trades = current_rows(raw, "trades", "trade_id", TRADE_INTS, ("completed_at", "updated_at"))
    return [t for t in trades.values() if t["status"] == "completed" and t["completed_at"]]


def retention(raw: Path) -> list[tuple]:
    events = valid_events(raw)
    first, last = min(e["event_date"] for e in events), max(e["event_date"] for e in events)
    active = {(e["user_id"], e["event_date"]) for e in events if e["user_id"] is not None}
    users = current_rows(raw, "users", "user_id", USER_INTS, ("signup_at", "updated_at"))

    def monday(day: date) -> date:
        return day - timedelta(days=day.weekday())

    cohorts: dict[date, list[int]] = defaultdict(list)
    for user in users.values():
        if user["signup_at"] and monday(first) <= monday(user["signup_at"].date()) <= monday(last):
            cohorts[monday(user["signup_at"].date())].append(user["user_id"])
    rows = []
    for week, members in sorted(cohorts.items()):
        for n in range(13):
            start = week + timedelta(days=7 * n)
            if start > last:
                break
            days = [start + timedelta(days=k) for k in range(7)]
            back = sum(any((u, d) in active for d in days) for u in members)
            rows.append((week, n, len(members), back, back / len(members)))
    return rows


def _chi2_sf(x: float, df: int) -> float:
    """Upper tail of chi-square with integer df, in closed form (no scipy)."""
    half = x / 2
    if df % 2 == 0:
        return math.exp(-half) * sum(half**i / math.factorial(i) for i in range(df // 2))
    total = math.erfc(math.sqrt(half))
    for i in range(1, (df - 1) // 2 + 1):
        total += math.exp(-half) * half ** (i - 0.5) / math.gamma(i + 0.5)
    return total


def _experiment_stats(raw: Path) -> list[tuple[dict, dict[str, list[int]], float | None]]:
    """Per experiment: its spec, each listed variant's users' counts of converting trades
    (completed trades bought in [assignment time, ended_at)), and the sample-ratio p."""
    specs = all_rows(
        raw, "experiments", "experiment_id", (), ("started_at", "ended_at"), "reference"
    )
    assignments = [
        row
        for _, row in all_rows(raw, "experiment_assignments", None, ("user_id",), ("assigned_at",))
    ]
    trades = completed_trades(raw)
    found = []
    for _, spec in specs:
        start, end = spec["started_at"], spec["ended_at"]
        listed = [item.split(":") for item in spec["variants"].split(";") if item.strip()]
        shares = {name.strip(): float(share) for name, share in listed}
        seen: dict[int, set[str]] = defaultdict(set)
        first_time: dict[int, datetime] = {}
        for a in assignments:
            if (
                a["experiment_id"] == spec["experiment_id"]
                and a["user_id"] is not None
                and a["assigned_at"]
                and start <= a["assigned_at"] < end
            ):
                seen[a["user_id"]].add(a["variant"])
                first_time[a["user_id"]] = min(
                    first_time.get(a["user_id"], a["assigned_at"]), a["assigned_at"]
                )
        bought = {
            variant: [
                sum(t["buyer_id"] == u and first_time[u] <= t["completed_at"] < end for t in trades)
                for u, vs in seen.items()
                if vs == {variant}
            ]
            for variant in shares
        }
        total = sum(len(users) for users in bought.values())
        share_sum = sum(shares.values())
        chi = (
            sum(
                (len(bought[v]) - total * s / share_sum) ** 2 / (total * s / share_sum)
                for v, s in shares.items()
            )
            if total
            else None
        )
        srm = _chi2_sf(chi, len(shares) - 1) if chi is not None else None
        found.append((spec, bought, srm))
    return found


def experiments(raw: Path) -> list[tuple]:
    rows = []
    for spec, bought, srm in _experiment_stats(raw):
        n_c = len(bought[spec["control_variant"]])
        x_c = sum(k > 0 for k in bought[spec["control_variant"]])
        for variant, users in bought.items():
            n, x = len(users), sum(k > 0 for k in users)
            rate = x / n if n else None
            lift = p = None
            if variant != spec["control_variant"] and n and n_c:
                control_rate = x_c / n_c
                lift = rate / control_rate - 1 if control_rate else None
                pooled = (x + x_c) / (n + n_c)
                se = math.sqrt(pooled * (1 - pooled) * (1 / n + 1 / n_c))
                p = math.erfc(abs(rate - control_rate) / se / math.sqrt(2)) if se else None
            rows.append((spec["experiment_id"], variant, n, x, rate, lift, p, srm))
    return sorted(rows)


def incidents(raw: Path) -> list[tuple]:
    specs = all_rows(raw, "incidents", "incident_id", (), ("started_at", "ended_at"), "reference")
    trades = completed_trades(raw)
    rows = []
    for _, spec in specs:

        def window(k: int, spec: dict = spec) -> tuple[int, int]:
            lo = spec["started_at"] - timedelta(days=7 * k)
            hi = spec["ended_at"] - timedelta(days=7 * k)
            inside = [t for t in trades if lo <= t["completed_at"] < hi]
            return len(inside), sum(t["price_krw"] or 0 for t in inside)

        actual, gmv = window(0)
        base_n = sum(window(k)[0] for k in range(1, 5)) / 4
        base_g = sum(window(k)[1] for k in range(1, 5)) / 4
        rows.append(
            (spec["incident_id"], actual, gmv, base_n, base_g, base_n - actual, base_g - gmv)
        )
    return sorted(rows)
