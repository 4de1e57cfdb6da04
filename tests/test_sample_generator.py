"""The sample generator: deterministic, and the shipped sample (seeds/) carries the edge
cases the generator plants (duplicates, late and clock-skewed events, bad lines and rows,
odd export files, ...), each found here by reading the files independently."""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest

from dongne_sample import generate
from tests.conftest import tree_digest

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def text_of(path: Path) -> str:
    data = path.read_bytes()
    return (gzip.decompress(data) if path.name.endswith(".gz") else data).decode("utf-8")


def instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def event_lines() -> list[tuple[str, str]]:
    """(file, line) of every delivered event line of the shipped sample."""
    return [
        (path.relative_to(SEEDS).as_posix(), line)
        for path in sorted(SEEDS.glob("events/*/*.jsonl*"))
        for line in text_of(path).splitlines()
    ]


@pytest.fixture(scope="module")
def events(event_lines: list[tuple[str, str]]) -> list[tuple[str, dict]]:
    parsed = []
    for file, line in event_lines:
        try:
            value = json.loads(line)
        except json.JSONDecodeError:
            continue
        if not isinstance(value, dict) or not value.get("event_id"):
            continue
        try:
            times = [instant(value["occurred_at"]), instant(value["received_at"])]
        except (KeyError, ValueError):
            continue
        if all(moment.tzinfo is not None for moment in times):
            parsed.append((file, value))
    return parsed


def exports(table: str) -> dict[str, tuple[list[str], list[dict[str, str]]]]:
    """file -> (header, rows) of a database export."""
    found = {}
    for path in sorted(SEEDS.glob(f"db/{table}/*.csv*")):
        reader = csv.DictReader(io.StringIO(text_of(path)))
        found[path.name] = (list(reader.fieldnames or []), list(reader))
    return found


def test_the_same_arguments_write_the_same_files(tmp_path: Path) -> None:
    generate(tmp_path / "a", users=40, days=36, seed=3)
    generate(tmp_path / "b", users=40, days=36, seed=3)
    assert tree_digest(tmp_path / "a", times=False) == tree_digest(tmp_path / "b", times=False)
    generate(tmp_path / "c", users=40, days=36, seed=4)
    assert tree_digest(tmp_path / "a", times=False) != tree_digest(tmp_path / "c", times=False)


def test_fewer_than_36_days_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 36"):
        generate(tmp_path / "raw", users=10, days=35)


def test_events_are_delivered_at_least_once_in_the_same_and_later_files(
    events: list[tuple[str, dict]],
) -> None:
    files_by_id = defaultdict(list)
    for file, event in events:
        files_by_id[event["event_id"]].append(file)
    repeated = [files for files in files_by_id.values() if len(files) > 1]
    assert any(len(set(files)) == 1 for files in repeated), "a copy in the same file"
    assert any(len(set(files)) > 1 for files in repeated), "a copy in a later file"


def test_late_events_phones_ahead_and_both_clocks_are_there(
    events: list[tuple[str, dict]],
) -> None:
    late = ahead = exactly_five = 0
    offsets = Counter()
    for _, event in events:
        occurred, received = instant(event["occurred_at"]), instant(event["received_at"])
        late += received - occurred > timedelta(days=1)
        ahead += occurred - received > timedelta(minutes=5)
        exactly_five += occurred - received == timedelta(minutes=5)
        offsets[(event["platform"], event["occurred_at"][-6:] == "+09:00")] += 1
    assert late and ahead and exactly_five
    assert offsets[("web", False)] and offsets[("ios", True)] and offsets[("android", True)]
    assert all(event["received_at"].endswith("Z") for _, event in events)


def test_unknown_names_fields_and_logged_out_events_are_there(
    events: list[tuple[str, dict]],
) -> None:
    names = Counter(event["event_name"] for _, event in events)
    assert names["share_click"] > 0  # a name newer app versions send
    assert {"app_open", "listing_view", "chat_start", "listing_create", "post_create"} <= set(names)
    assert any("client_meta" in event for _, event in events)  # an unknown top-level field
    assert any(event["user_id"] is None for _, event in events)


def test_gaps_of_exactly_1800_and_1801_seconds_follow_some_event(
    events: list[tuple[str, dict]],
) -> None:
    by_user = defaultdict(set)
    for _, event in events:
        if event["user_id"] is not None:
            by_user[event["user_id"]].add(instant(event["occurred_at"]))
    gaps = Counter()
    for moments in by_user.values():
        ordered = sorted(moments)
        gaps.update((b - a).total_seconds() for a, b in pairwise(ordered))
    assert gaps[1800.0] and gaps[1801.0]


def test_every_kind_of_bad_event_line_is_planted(event_lines: list[tuple[str, str]]) -> None:
    kinds = Counter()
    for _, line in event_lines:
        try:
            value = json.loads(line)
        except json.JSONDecodeError:
            kinds["not json"] += 1
            continue
        if not isinstance(value, dict):
            kinds["not an object"] += 1
        elif "event_id" not in value:
            kinds["missing event_id"] += 1
        elif value["event_id"] == "":
            kinds["empty event_id"] += 1
        elif "device_id" not in value:
            kinds["missing device_id"] += 1
        elif isinstance(value.get("user_id"), str):
            kinds["user_id string"] += 1
        elif isinstance(value.get("user_id"), float):
            kinds["user_id float"] += 1
        elif not value["occurred_at"][:4].isdigit():
            kinds["unparseable time"] += 1
        elif value["occurred_at"][-1] not in "Z0123456789" or len(value["occurred_at"]) == 19:
            kinds["time without offset"] += 1
    assert set(kinds) == {
        "not json",
        "not an object",
        "missing event_id",
        "empty event_id",
        "missing device_id",
        "user_id string",
        "user_id float",
        "unparseable time",
        "time without offset",
    }, kinds


def test_event_and_export_files_come_plain_and_gzipped() -> None:
    assert list(SEEDS.glob("events/*/*.jsonl")) and list(SEEDS.glob("events/*/*.jsonl.gz"))
    assert list(SEEDS.glob("db/listings/*.csv.gz")) and list(SEEDS.glob("db/listings/*.csv"))


def test_odd_export_files_and_bad_rows_are_there() -> None:
    users = exports("users")
    assert any("marketing_opt_in" in header for header, _ in users.values())
    assert any("topic" not in header for header, _ in exports("posts").values())
    assert any(row["user_id"] == "u-unknown" for _, rows in users.values() for row in rows)
    listings = [row for _, rows in exports("listings").values() for row in rows]
    assert any(row["listing_id"] == "" for row in listings)
    assert any(row["price_krw"] == "12,000원" for row in listings)
    trades = [row for _, rows in exports("trades").values() for row in rows]
    assert any(row["completed_at"].endswith("25:61:00") for row in trades)


def test_exports_carry_quoted_korean_text_with_line_breaks_and_empty_fields() -> None:
    raw = "".join(text_of(path) for path in SEEDS.glob("db/listings/*.csv*"))
    assert '"사용감 조금 있어요,\n네고 가능!"' in raw
    assert '"""정품"" 니트"' in raw
    listings = [row for _, rows in exports("listings").values() for row in rows]
    assert any(row["description"] == "" for row in listings if row["listing_id"])


def test_texts_carry_typed_phone_numbers_and_emails_in_several_spellings() -> None:
    """What the published copies must scrub (`<phone>`, `<email>`) is in the sample:
    in listing descriptions and in post bodies, written the ways people type them."""
    descriptions = {row["description"] for _, rows in exports("listings").values() for row in rows}
    bodies = {row["body"] for _, rows in exports("posts").values() for row in rows}
    texts = " | ".join(descriptions | bodies)
    for typed in [
        "010-2345-6789",
        "01098765432",
        "010 4444 5555",
        "+82 10 5555 1234",
        "02-123-4567",
        "seller.kim@example.com",
        "run.club@dongne.example",
    ]:
        assert typed in texts, typed
    assert any("@" in body for body in bodies) and any("010" in d for d in descriptions)
    assert "2026112300017" in texts  # a long order number: digits that are not a phone


def test_histories_prices_cancellations_and_status_changes_are_there() -> None:
    prices = defaultdict(set)
    for _, rows in exports("listings").values():
        for row in rows:
            prices[row["listing_id"]].add(row["price_krw"])
    assert any(len(p) > 1 for p in prices.values()), "a price change"
    statuses = defaultdict(list)
    for name, (_, rows) in exports("trades").items():
        for row in rows:
            statuses[row["trade_id"]].append((name, row["status"]))
    assert any([s for _, s in sorted(v)] == ["completed", "canceled"] for v in statuses.values()), (
        "a trade cancelled after completion"
    )
    users = [row for _, rows in exports("users").values() for row in rows]
    assert {"dormant", "withdrawn"} & {row["status"] for row in users}
    first_file, (_, first_rows) = min(exports("users").items())
    day = first_file.split(".")[0]
    assert any(row["signup_at"] < day for row in first_rows), "users from before the window"


def test_experiment_and_label_edge_cases_are_there() -> None:
    assignments = [row for _, rows in exports("experiment_assignments").values() for row in rows]
    variants = defaultdict(set)
    copies = Counter()
    for row in assignments:
        if row["experiment_id"] == "exp_safe_pay_banner":
            variants[row["user_id"]].add(row["variant"])
        copies[tuple(row.values())] += 1
    assert any(len(v) == 2 for v in variants.values()), "a user in both variants"
    assert any(n > 1 for n in copies.values()), "an assignment delivered twice"
    labels = [row for _, rows in exports("moderation_labels").values() for row in rows]
    human = Counter(
        (row["target_type"], row["target_id"], row["labeled_at"])
        for row in labels
        if row["source"] == "human"
    )
    assert any(n > 1 for n in human.values()), "two human labels at the same second"
    assert any(row["source"] == "model" for row in labels)
    assert any(row["target_id"] == "49999" for row in labels), "a label for a purged listing"
    assert {row["target_type"] for row in labels} == {"listing", "post"}
