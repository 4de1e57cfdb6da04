"""The summary a build ends with: one line per source whose numbers are the lake's, and the
published tables with their row counts."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
from dagster import ExecuteInProcessResult

from orchestration.landing import DB_TABLES, REFERENCE_TABLES
from orchestration.summary import print_build_summary
from tests.conftest import query, settings_for

LANDED = re.compile(
    r"^  (?P<source>\w+) +(?P<received>[\d,]+) = +(?P<loaded>[\d,]+) \+ +(?P<quarantined>[\d,]+)"
    r"(?:  \((?P<reasons>.*)\))?$"
)


def number(text: str) -> int:
    return int(text.replace(",", ""))


def section(lines: list[str], heading: str) -> list[str]:
    """The indented lines under the line that starts with `heading`."""
    (start,) = [i for i, line in enumerate(lines) if line.startswith(heading)]
    block = []
    for line in lines[start + 1 :]:
        if not line.startswith("  "):
            break
        block.append(line)
    return block


def lake_folder(lake: Path, source: str) -> Path:
    if source == "events":
        return lake / "events"
    return lake / ("db" if source in DB_TABLES else "reference") / source


def lake_counts(lake: Path, source: str) -> tuple[int, int, dict[str, int]]:
    """(rows loaded, rows quarantined, quarantined by reason) of a source, from the lake."""
    with duckdb.connect() as con:
        loaded = con.execute(
            f"select count(*) from read_parquet('{lake_folder(lake, source)}/**/*.parquet')"
        ).fetchall()[0][0]
        quarantine = lake / "quarantine" / source
        if not any(quarantine.glob("**/*.parquet")):
            return loaded, 0, {}
        reasons = dict(
            con.execute(
                f"select reason, count(*) from read_parquet('{quarantine}/**/*.parquet') "
                "group by reason"
            ).fetchall()
        )
    return loaded, sum(reasons.values()), reasons


def test_the_summary_has_one_line_per_source_with_the_lakes_numbers(
    sample_raw_dir: Path,
    sample_build: tuple[Path, ExecuteInProcessResult],
    capsys: pytest.CaptureFixture[str],
) -> None:
    data_dir, result = sample_build
    print_build_summary(settings_for(sample_raw_dir, data_dir), result)
    lines = capsys.readouterr().out.splitlines()

    landed = [LANDED.match(line) for line in section(lines, "Landed by this run")]
    assert all(landed), section(lines, "Landed by this run")
    sources = [m["source"] for m in landed if m]
    assert sorted(sources) == sorted(["events", *DB_TABLES, *REFERENCE_TABLES])
    quarantined_somewhere = False
    for match in landed:
        assert match is not None
        loaded, quarantined, reasons = lake_counts(data_dir / "lake", match["source"])
        assert number(match["loaded"]) == loaded, match["source"]
        assert number(match["quarantined"]) == quarantined, match["source"]
        assert number(match["received"]) == loaded + quarantined, match["source"]
        shown = dict(
            (reason, number(count))
            for reason, count in (
                part.rsplit(" ", 1) for part in (match["reasons"] or "").split(", ") if part
            )
        )
        assert shown == reasons, match["source"]
        quarantined_somewhere |= quarantined > 0
    assert quarantined_somewhere  # the sample's bad input is counted, not only zeros

    published = section(lines, "Published ")
    cells = re.findall(r"((?:marts|ml)\.\w+) +([\d,]+)", "\n".join(published))
    tables = query(
        data_dir / "analytics.duckdb",
        "select schema_name || '.' || table_name from duckdb_tables() "
        "where schema_name in ('marts', 'ml') order by 1",
    )
    assert [name for name, _ in cells] == [name for (name,) in tables]
    for name, rows in cells:
        counted = query(data_dir / "analytics.duckdb", f"select count(*) from {name}")[0][0]
        assert number(rows) == counted, name
