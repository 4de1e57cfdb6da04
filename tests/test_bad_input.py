"""Bad input, table-driven: each kind lands in quarantine with its reason (or loads, where
docs/sources.md says it is valid), every other row loads, and received = loaded + quarantined.
Random lines and rows: tests/test_random_input.py; CSV line numbers: tests/test_csv_lines.py."""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pytest

from orchestration import landing
from orchestration.settings import REPO_ROOT
from tests.test_lake import good, without

DAY = "2026-03-01"
LISTINGS_HEADER = (
    "listing_id,seller_id,category_id,region_id,title,description,price_krw,status,"
    "created_at,updated_at"
)
STAMP = "2026-03-01 10:00:00"


def listing(listing_id: object, price: object = 1000, title: str = "의자") -> str:
    return f"{listing_id},7,1,1,{title},설명,{price},on_sale,{STAMP},{STAMP}"


def events_file(*lines: str | bytes) -> bytes:
    return b"".join((x if isinstance(x, bytes) else x.encode()) + b"\n" for x in lines)


def around(bad: str | bytes) -> bytes:
    """A good line before and after the bad one: they must load whatever it is."""
    return events_file(good(event_id="before"), bad, good(event_id="after"))


def listings_file(*rows: str, header: str = LISTINGS_HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def listings_around(bad: str | bytes) -> bytes:
    bad_bytes = bad if isinstance(bad, bytes) else bad.encode()
    return listings_file(listing(1)) + bad_bytes + b"\n" + listing(3).encode() + b"\n"


@dataclass
class BadInput:
    kind: str
    source: str  # "events" or "listings"
    files: dict[str, bytes]  # file name inside the day's folder -> bytes delivered
    reasons: dict[str, int]  # quarantined rows by reason
    loaded: int
    rejected_files: list[str] = field(default_factory=list)
    extra_columns: list[str] = field(default_factory=list)


def truncated_gzip() -> bytes:
    return gzip.compress(events_file(*(good(event_id=f"g{n}") for n in range(300))))[:60]


HUGE = "x" * 1_200_000
GIANT = "x" * (landing.specs.MAX_LINE_BYTES + 1)
CASES = [
    BadInput("not JSON", "events", {"a.jsonl": around("{not json")}, {"not_json": 1}, 2),
    BadInput(
        "JSON array, not an object",
        "events",
        {"a.jsonl": around('["an", "array"]')},
        {"not_a_json_object": 1},
        2,
    ),
    *[
        BadInput(
            f"{name} {how}",
            "events",
            {"a.jsonl": around(line)},
            {f"missing_{name}": 1},
            2,
        )
        for name, how, line in [
            ("event_id", "missing", without("event_id")),
            ("event_name", "empty", good(event_name="")),
            ("device_id", "null", good(device_id=None)),
            ("occurred_at", "missing", without("occurred_at")),
            ("received_at", "empty", good(received_at="   ")),
        ]
    ],
    BadInput(
        "unparseable timestamp",
        "events",
        {"a.jsonl": around(good(occurred_at="2026-02-30T09:00:00+09:00"))},
        {"unparseable_occurred_at": 1},
        2,
    ),
    BadInput(
        "timestamp without offset",
        "events",
        {"a.jsonl": around(good(received_at="2026-03-01T00:00:01"))},
        {"unparseable_received_at": 1},
        2,
    ),
    BadInput(
        "user_id as string",
        "events",
        {"a.jsonl": around(good(user_id="42"))},
        {"user_id_not_integer": 1},
        2,
    ),
    BadInput(
        "user_id as float",
        "events",
        {"a.jsonl": around(good(user_id=42.5))},
        {"user_id_not_integer": 1},
        2,
    ),
    BadInput(
        "NUL byte in a line",
        "events",
        {"a.jsonl": around(good(event_id="nul").encode().replace(b"nul", b"n\x00l"))},
        {"not_json": 1},
        2,
    ),
    BadInput(
        "invalid UTF-8 in a line",
        "events",
        {"a.jsonl": around(good(event_id="bad").encode().replace(b"bad", b"b\xffd"))},
        {"invalid_utf8": 1},
        2,
    ),
    BadInput(
        "truncated gzip file",
        "events",
        {"broken.jsonl.gz": truncated_gzip(), "fine.jsonl": events_file(good(event_id="f"))},
        {"unreadable_file": 1},
        1,
        rejected_files=[f"events/{DAY}/broken.jsonl.gz"],
    ),
    BadInput(
        "empty events file (a collector with no traffic: nothing to load or lose)",
        "events",
        {"empty.jsonl": b"", "fine.jsonl": events_file(good(event_id="f"))},
        {},
        1,
    ),
    BadInput(
        "huge line (>= 1 MB), broken",
        "events",
        {"a.jsonl": around('{"event_id": "' + HUGE)},
        {"not_json": 1},
        2,
    ),
    BadInput(
        "huge line (>= 1 MB), valid",
        "events",
        {"a.jsonl": around(good(event_id="huge", properties={"query": HUGE}))},
        {},
        3,
    ),
    BadInput(
        "line over 16 MiB",
        "events",
        {"a.jsonl": around(good(event_id="giant", properties={"query": GIANT}))},
        {"line_too_long": 1},
        2,
    ),
    BadInput(
        "empty and blank lines",
        "events",
        {"a.jsonl": events_file(good(event_id="before"), "", " \t ", good(event_id="after"))},
        {"empty_line": 2},
        2,
    ),
    BadInput(
        "duplicate files (the same delivery twice: both kept, de-duplicated in dbt)",
        "events",
        {"a.jsonl": around(good(event_id="dup")), "a (copy).jsonl": around(good(event_id="dup"))},
        {},
        6,
    ),
    BadInput(
        "CSV missing a column",
        "listings",
        {
            f"{DAY}.csv": listings_file(
                "1,7,1,1,t,d,on_sale," + STAMP + "," + STAMP,
                header=LISTINGS_HEADER.replace("price_krw,", ""),
            )
        },
        {"missing_columns": 1},
        0,
        rejected_files=[f"db/listings/{DAY}.csv"],
    ),
    BadInput(
        "CSV with extra columns (ignored, reported)",
        "listings",
        {
            f"{DAY}.csv": listings_file(
                listing(1) + ",Y", listing(2) + ",N", header=LISTINGS_HEADER + ",promoted"
            )
        },
        {},
        2,
        extra_columns=["promoted"],
    ),
    BadInput(
        "CSV row with too many fields",
        "listings",
        {f"{DAY}.csv": listings_around(listing(2) + ",surplus")},
        {"too_many_fields": 1},
        2,
    ),
    BadInput(
        "CSV row with too few fields",
        "listings",
        {f"{DAY}.csv": listings_around("2,7,1")},
        {"too_few_fields": 1},
        2,
    ),
    BadInput(
        "unparseable number",
        "listings",
        {f"{DAY}.csv": listings_around(listing(2, price="12,000원".replace(",", "")))},
        {"unparseable_number": 1},
        2,
    ),
    BadInput(
        "negative price (parses: loaded as delivered, flagged by a dbt warning test)",
        "listings",
        {f"{DAY}.csv": listings_around(listing(2, price=-500))},
        {},
        3,
    ),
    BadInput(
        "missing primary key",
        "listings",
        {f"{DAY}.csv": listings_around(listing(""))},
        {"missing_primary_key": 1},
        2,
    ),
    BadInput(
        "unparseable CSV timestamp",
        "listings",
        {f"{DAY}.csv": listings_around(listing(2).replace(STAMP, "2026-03-01T10:00", 1))},
        {"unparseable_timestamp": 1},
        2,
    ),
    BadInput(
        "invalid UTF-8 in a CSV row",
        "listings",
        {f"{DAY}.csv": listings_around(listing(2, title="X").encode().replace(b"X", b"\xc3("))},
        {"invalid_utf8": 1},
        2,
    ),
    BadInput(
        "unterminated quote in a CSV row (RFC 4180: it runs on over the next row; both are "
        "quarantined as one record, in its raw text)",
        "listings",
        {f"{DAY}.csv": listings_around('2,7,1,1,"open quote,d,1,on_sale,' + STAMP + "," + STAMP)},
        {"malformed_csv_row": 1},
        1,
    ),
    BadInput(
        "empty lines between the rows of a CSV export, and at its end (the reader would "
        "skip them; each is counted and quarantined), beside a quoted field spanning lines",
        "listings",
        {
            f"{DAY}.csv": listings_file(
                listing(1), "", listing(2, title='"두 줄\n\n제목"'), "", listing(3), ""
            )
        },
        {"empty_line": 3},
        3,
    ),
    BadInput(
        "empty CSV file (no header)",
        "listings",
        {f"{DAY}.csv": b"", "2026-03-02.csv": listings_file(listing(9))},
        {"missing_columns": 1},
        1,
        rejected_files=[f"db/listings/{DAY}.csv"],
    ),
]


def deliver(raw: Path, case: BadInput) -> None:
    folder = raw / "events" / DAY if case.source == "events" else raw / "db" / "listings"
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in case.files.items():
        (folder / name).write_bytes(data)


def land(raw: Path, lake_dir: Path, source: str) -> landing.LandingReport:
    if source == "events":
        return landing.land_events(raw, lake_dir, landing.connect())
    return landing.land_table(landing.DB_TABLES[source], raw, lake_dir, landing.connect())


def lake_rows(lake_dir: Path, source: str) -> tuple[int, int]:
    """(rows in the lake, rows in quarantine) for a source, read back from the Parquet."""
    data = "events" if source == "events" else f"db/{source}"
    with duckdb.connect() as con:
        loaded = con.execute(
            f"select count(*) from read_parquet('{lake_dir}/{data}/**/*.parquet', "
            "union_by_name = true, hive_partitioning = false)"
        ).fetchone()[0]
        files = list((lake_dir / "quarantine" / source).rglob("*.parquet"))
        quarantined = (
            con.execute(
                f"select count(*) from read_parquet('{lake_dir}/quarantine/{source}/**/*.parquet')"
            ).fetchone()[0]
            if files
            else 0
        )
    return loaded, quarantined


def test_every_quarantine_reason_is_delivered_here_and_explained_in_the_docs() -> None:
    """The cases deliver every reason the landing can give (and no other), and
    docs/sources.md explains each: a new rule without a case or a word fails here."""
    delivered = {reason for case in CASES for reason in case.reasons}
    assert delivered == set(landing.QUARANTINE_REASONS)
    documented = re.findall(
        r"^\| `(\w+)` \|", (REPO_ROOT / "docs" / "sources.md").read_text(), re.M
    )
    assert documented == list(landing.QUARANTINE_REASONS)
    assert len({case.kind for case in CASES}) == len(CASES)  # each case named once


@pytest.mark.parametrize("case", CASES, ids=[case.kind for case in CASES])
def test_bad_input_is_quarantined_with_its_reason_and_the_rest_loads(
    case: BadInput, tmp_path: Path
) -> None:
    raw, lake_dir = tmp_path / "raw", tmp_path / "lake"
    deliver(raw, case)
    before = {p: p.read_bytes() for p in raw.rglob("*") if p.is_file()}
    report = land(raw, lake_dir, case.source)
    assert report.quarantined_by_reason == case.reasons
    assert report.rows_loaded == case.loaded
    assert report.conserved, (report.rows_received, report.rows_loaded, report.rows_quarantined)
    assert sorted(report.rejected_files) == sorted(case.rejected_files)
    assert [c for cols in report.extra_columns.values() for c in cols] == case.extra_columns
    # What the report says is what the lake holds, and the raw files are untouched.
    assert lake_rows(lake_dir, case.source) == (case.loaded, sum(case.reasons.values()))
    assert {p: p.read_bytes() for p in raw.rglob("*") if p.is_file()} == before


def test_quarantined_rows_keep_file_line_reason_and_raw_text(tmp_path: Path) -> None:
    raw, lake_dir = tmp_path / "raw", tmp_path / "lake"
    case = next(c for c in CASES if c.kind == "user_id as string")
    deliver(raw, case)
    land(raw, lake_dir, "events")
    with duckdb.connect() as con:
        rows = con.execute(
            f"select file, line, reason, raw from read_parquet('{lake_dir}/quarantine/events/**/*')"
        ).fetchall()
    assert rows == [(f"events/{DAY}/a.jsonl", 2, "user_id_not_integer", good(user_id="42"))]
