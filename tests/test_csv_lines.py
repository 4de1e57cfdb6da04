"""CSV line numbers: a row's `line`, in the lake and in the quarantine, is the physical
line it starts on (docs/sources.md), whatever ends lines (LF, CRLF, a lone CR) and
whatever quoted fields span; received = loaded + quarantined counts them the same way."""

from __future__ import annotations

from pathlib import Path

import duckdb

from orchestration import landing
from tests.test_bad_input import CASES, DAY, LISTINGS_HEADER, STAMP, deliver, land, listing


def land_listings(tmp_path: Path, body: str) -> landing.LandingReport:
    """One listings file of `body`, landed into tmp_path/lake."""
    folder = tmp_path / "raw" / "db" / "listings"
    folder.mkdir(parents=True)
    (folder / f"{DAY}.csv").write_bytes(body.encode())
    return land(tmp_path / "raw", tmp_path / "lake", "listings")


def loaded_listings(lake_dir: Path, columns: str) -> list[tuple]:
    with duckdb.connect() as con:
        return con.execute(
            f"select {columns} from read_parquet('{lake_dir}/db/listings/**/*') order by 1"
        ).fetchall()


def quarantined_listings(lake_dir: Path) -> list[tuple]:
    """(line, reason) of each quarantined listings row, by line."""
    with duckdb.connect() as con:
        return con.execute(
            f"select line, reason from read_parquet('{lake_dir}/quarantine/listings/**/*') "
            "order by 1"
        ).fetchall()


def test_csv_rows_keep_the_physical_line_they_start_on(tmp_path: Path) -> None:
    """Lines 3, 7 and 9 are empty (quarantined there); listing 2's quoted title spans lines
    4 to 6, its empty line 5 included (a field's text, not an empty line)."""
    raw, lake_dir = tmp_path / "raw", tmp_path / "lake"
    case = next(c for c in CASES if c.kind.startswith("empty lines between the rows"))
    deliver(raw, case)
    report = land(raw, lake_dir, "listings")
    assert report.rows_received == 6
    loaded = loaded_listings(lake_dir, "listing_id, _line, title")
    assert loaded == [(1, 2, "의자"), (2, 4, "두 줄\n\n제목"), (3, 8, "의자")]
    assert quarantined_listings(lake_dir) == [
        (3, "empty_line"),
        (7, "empty_line"),
        (9, "empty_line"),
    ]


def test_a_lone_carriage_return_ends_a_line_for_the_count_and_the_reader_alike(
    tmp_path: Path,
) -> None:
    """Found by tests/test_random_input.py: a lone CR outside quotes (an old Mac line break,
    or text pasted unquoted) ended a record for DuckDB's reader but not for the count, and
    received was not loaded + quarantined. Both now end a line there."""
    broken = f"2,0,0,0,,\r,,on_sale,{STAMP},{STAMP}"  # a record cut in two by the CR
    report = land_listings(tmp_path, f"{LISTINGS_HEADER}\n{listing(1)}\n{broken}\n{listing(3)}\n")
    assert (report.rows_received, report.rows_loaded, report.rows_quarantined) == (4, 2, 2)
    assert report.conserved
    assert quarantined_listings(tmp_path / "lake") == [(3, "too_few_fields"), (4, "too_few_fields")]


def test_a_line_break_inside_quotes_moves_later_rows_down_for_the_lake_and_the_quarantine(
    tmp_path: Path,
) -> None:
    """A lone CR inside a quoted field ends a physical line as CRLF and LF do: the rejected
    row after it and the valid row after that keep the lines an editor shows."""
    bad = f"oops,0,0,0,t,d,,on_sale,{STAMP},{STAMP}"
    quoted = listing(1, title='"a\rb"')
    report = land_listings(tmp_path, f"{LISTINGS_HEADER}\n{quoted}\n{bad}\n{listing(3)}\n")
    assert (report.rows_received, report.rows_loaded, report.rows_quarantined) == (3, 2, 1)
    loaded = loaded_listings(tmp_path / "lake", "listing_id, title, _line")
    assert loaded == [(1, "a\rb", 2), (3, "의자", 5)]
    assert quarantined_listings(tmp_path / "lake") == [(4, "unparseable_number")]
