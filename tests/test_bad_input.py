"""Bad input, table-driven: each kind lands in quarantine with its reason (or loads, where
docs/sources.md says it is valid), every other row loads, and received = loaded + quarantined.
Then random lines and rows (hypothesis): conservation holds and nothing crashes."""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import string
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestration import landing
from orchestration.settings import REPO_ROOT
from tests import oracle
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


def test_csv_rows_keep_the_physical_line_they_start_on(tmp_path: Path) -> None:
    """Lines 3, 7 and 9 are empty (quarantined there); listing 2's quoted title spans lines
    4 to 6, its empty line 5 included (a field's text, not an empty line)."""
    raw, lake_dir = tmp_path / "raw", tmp_path / "lake"
    case = next(c for c in CASES if c.kind.startswith("empty lines between the rows"))
    deliver(raw, case)
    report = land(raw, lake_dir, "listings")
    assert report.rows_received == 6
    with duckdb.connect() as con:
        loaded = con.execute(
            f"select listing_id, _line, title from read_parquet('{lake_dir}/db/listings/**/*') "
            "order by 1"
        ).fetchall()
        quarantined = con.execute(
            f"select line, reason from read_parquet('{lake_dir}/quarantine/listings/**/*') "
            "order by 1"
        ).fetchall()
    assert loaded == [(1, 2, "의자"), (2, 4, "두 줄\n\n제목"), (3, 8, "의자")]
    assert quarantined == [(3, "empty_line"), (7, "empty_line"), (9, "empty_line")]


# ----------------------------------------------------------------------------------------
# Property-based: random lines and rows never break conservation or the loader.
# ----------------------------------------------------------------------------------------

FIELD_VALUES = st.one_of(
    st.none(),
    st.text(max_size=12),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.sampled_from(["2026-03-01T09:00:00+09:00", "2026-03-01T00:00:01Z", "2026-03-01", ""]),
    st.lists(st.integers(), max_size=2),
)
EVENT_FIELDS = ["event_id", "event_name", "user_id", "device_id", "occurred_at", "received_at"]
EVENT_OBJECTS = st.fixed_dictionaries(
    {}, optional={name: FIELD_VALUES for name in [*EVENT_FIELDS, "properties", "extra"]}
).map(lambda event: json.dumps(event, ensure_ascii=False))
EVENT_LINES = st.one_of(
    EVENT_OBJECTS,
    st.builds(
        lambda changes: good(**changes),
        st.dictionaries(st.sampled_from(EVENT_FIELDS), FIELD_VALUES, max_size=2),
    ),
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r"),
        max_size=40,
    ),
    st.binary(max_size=40).map(lambda b: b.replace(b"\n", b" ").replace(b"\r", b" ")),
)
CSV_CELLS = st.one_of(
    st.text(alphabet=string.printable.replace("\n", "").replace("\r", ""), max_size=10),
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.sampled_from([STAMP, "2026-13-01 00:00:00", "", '"', '"a,b"', "김치"]),
)
CSV_ROWS = st.lists(CSV_CELLS, min_size=0, max_size=12).map(",".join)

HYPOTHESIS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@HYPOTHESIS
@given(lines=st.lists(EVENT_LINES, min_size=1, max_size=12))
def test_random_event_lines_are_conserved(lines: list[str | bytes]) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        (root / "raw" / "events" / DAY).mkdir(parents=True)
        (root / "raw" / "events" / DAY / "r.jsonl").write_bytes(events_file(*lines))
        report = land(root / "raw", root / "lake", "events")
        assert report.rows_received == len(lines)
        assert report.conserved
        assert lake_rows(root / "lake", "events") == (report.rows_loaded, report.rows_quarantined)
        # ... and not by quarantining what is valid: the lines docs/sources.md accepts load.
        assert report.rows_loaded == sum(event_line_is_valid(line) for line in lines)


def event_line_is_valid(line: str | bytes) -> bool:
    """The independent implementation's verdict on one line (tests/oracle.py)."""
    if isinstance(line, bytes):
        try:
            line = line.decode("utf-8")
        except UnicodeDecodeError:
            return False
    return oracle.parse_event_line(line) is not None


@HYPOTHESIS
@given(rows=st.lists(CSV_ROWS, min_size=1, max_size=10))
def test_random_csv_rows_are_conserved(rows: list[str]) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        folder = root / "raw" / "db" / "listings"
        folder.mkdir(parents=True)
        (folder / f"{DAY}.csv").write_bytes(listings_file(*rows))
        report = land(root / "raw", root / "lake", "listings")
        assert report.conserved
        assert lake_rows(root / "lake", "listings") == (report.rows_loaded, report.rows_quarantined)


# Rows docs/sources.md accepts, written by Python's csv module (RFC 4180 quoting): ids and
# prices anywhere in BIGINT's range (a price may be empty or negative), any text (commas,
# quotes, line breaks, Korean), a status of the list, timestamps in the source's format.
BIGINTS = st.integers(min_value=-(2**63), max_value=2**63 - 1)
TEXTS = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"))
    | st.sampled_from([",", '"', "\n", "\r", "김"]),
    max_size=15,
)
VALID_LISTINGS = st.tuples(
    st.integers(min_value=1, max_value=2**63 - 1),
    BIGINTS,
    BIGINTS,
    BIGINTS,
    TEXTS,
    TEXTS,
    st.one_of(st.none(), BIGINTS),
    st.sampled_from(["on_sale", "reserved", "sold", "hidden", "deleted"]),
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)),
)


def valid_listings_file(rows: list[tuple]) -> bytes:
    out = io.StringIO()
    # Python's writer quotes a field holding a character of its line terminator: with
    # CRLF, both a lone CR and a lone LF in a text are quoted, as RFC 4180 wants.
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(LISTINGS_HEADER.split(","))
    for *ids, title, description, price, status, at in rows:
        stamp = at.strftime("%Y-%m-%d %H:%M:%S")
        writer.writerow(
            [*ids, title, description, "" if price is None else price, status, stamp, stamp]
        )
    return out.getvalue().encode()


@HYPOTHESIS
@given(
    valid=st.lists(VALID_LISTINGS, min_size=1, max_size=6),
    junk=st.lists(CSV_ROWS, min_size=1, max_size=6),
)
def test_valid_csv_rows_load_unchanged_beside_random_ones(
    valid: list[tuple], junk: list[str]
) -> None:
    """Conservation alone would pass a landing that quarantined everything: every row the
    contract accepts loads, with its values, beside a file of random rows."""
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        folder = root / "raw" / "db" / "listings"
        folder.mkdir(parents=True)
        (folder / "2026-03-01.csv").write_bytes(valid_listings_file(valid))
        (folder / "2026-03-02.csv").write_bytes(listings_file(*junk))
        report = land(root / "raw", root / "lake", "listings")
        assert report.conserved
        with duckdb.connect() as con:
            loaded = con.execute(
                "select listing_id, seller_id, category_id, region_id, title, description, "
                "price_krw, status, updated_at from read_parquet("
                f"'{root}/lake/db/listings/**/*.parquet', union_by_name = true, "
                "hive_partitioning = false) where _file like '%2026-03-01%' order by _line"
            ).fetchall()
    # An empty field is null (docs/sources.md); every other value arrives as written.
    expected = [
        (*ids, title or None, description or None, price, status, at.replace(microsecond=0))
        for *ids, title, description, price, status, at in valid
    ]
    assert loaded == expected


def test_a_lone_carriage_return_ends_a_line_for_the_count_and_the_reader_alike(
    tmp_path: Path,
) -> None:
    """Found by the property above: a lone CR outside quotes (an old Mac line break, or
    text pasted unquoted) ended a record for DuckDB's reader but not for the count, and
    received was not loaded + quarantined. Both now end a line there."""
    folder = tmp_path / "raw" / "db" / "listings"
    folder.mkdir(parents=True)
    broken = f"2,0,0,0,,\r,,on_sale,{STAMP},{STAMP}"  # a record cut in two by the CR
    body = f"{LISTINGS_HEADER}\n{listing(1)}\n{broken}\n{listing(3)}\n"
    (folder / f"{DAY}.csv").write_bytes(body.encode())
    report = land(tmp_path / "raw", tmp_path / "lake", "listings")
    assert (report.rows_received, report.rows_loaded, report.rows_quarantined) == (4, 2, 2)
    assert report.conserved
    with duckdb.connect() as con:
        quarantined = con.execute(
            f"select line, reason from read_parquet('{tmp_path}/lake/quarantine/listings/**/*') "
            "order by 1"
        ).fetchall()
    assert quarantined == [(3, "too_few_fields"), (4, "too_few_fields")]


def test_a_line_break_inside_quotes_moves_later_rows_down_for_the_lake_and_the_quarantine(
    tmp_path: Path,
) -> None:
    """A lone CR inside a quoted field ends a physical line as CRLF and LF do: the rejected
    row after it and the valid row after that keep the lines an editor shows."""
    folder = tmp_path / "raw" / "db" / "listings"
    folder.mkdir(parents=True)
    bad = f"oops,0,0,0,t,d,,on_sale,{STAMP},{STAMP}"
    quoted = listing(1, title='"a\rb"')
    body = f"{LISTINGS_HEADER}\n{quoted}\n{bad}\n{listing(3)}\n"
    (folder / f"{DAY}.csv").write_bytes(body.encode())
    report = land(tmp_path / "raw", tmp_path / "lake", "listings")
    assert (report.rows_received, report.rows_loaded, report.rows_quarantined) == (3, 2, 1)
    with duckdb.connect() as con:
        loaded = con.execute(
            f"select listing_id, title, _line from read_parquet('{tmp_path}/lake/db/listings/**/*')"
            " order by 1"
        ).fetchall()
        quarantined = con.execute(
            f"select line, reason from read_parquet('{tmp_path}/lake/quarantine/listings/**/*')"
        ).fetchall()
    assert loaded == [(1, "a\rb", 2), (3, "의자", 5)]
    assert quarantined == [(4, "unparseable_number")]
