"""Raw deliveries -> the Parquet lake: valid rows loaded, every other row quarantined.

No Dagster here, so landing can be tested (and run) without an orchestrator. One module
per concern:

- `specs`       what each raw source looks like (columns, keys, types, formats)
- `deliveries`  which raw files exist and which delivery each belongs to
- `reader`      event files -> one stream of numbered lines
- `events`      the event-line rules, in one query over every file
- `tables`      the CSV rules (database exports, reference sheets), one scan per header
- `swap`        writing lake folders aside and swapping them in, with a crash journal
- `report`      what a landing did, and row counts per delivery
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import duckdb

from orchestration.landing.deliveries import (
    RawDirectoryError,
    delivery_days,
    delivery_key,
    list_deliveries,
    raw_files,
)
from orchestration.landing.duck import connect, sql_text
from orchestration.landing.events import land_events
from orchestration.landing.report import LandingReport, delivery_row_counts
from orchestration.landing.specs import (
    ALL_TABLES,
    DB_TABLES,
    PARTITIONED_SOURCES,
    REFERENCE_TABLES,
    TableSpec,
)
from orchestration.landing.tables import land_table

__all__ = [
    "ALL_TABLES",
    "DB_TABLES",
    "PARTITIONED_SOURCES",
    "REFERENCE_TABLES",
    "LandingReport",
    "RawDirectoryError",
    "TableSpec",
    "connect",
    "delivery_days",
    "delivery_key",
    "delivery_row_counts",
    "land_all",
    "land_events",
    "land_table",
    "list_deliveries",
    "raw_files",
    "sql_text",
]


def land_all(
    raw_dir: Path,
    lake_dir: Path,
    con: duckdb.DuckDBPyConnection,
    sources: Iterable[str] | None = None,
) -> dict[str, LandingReport]:
    """Land every source (or the named ones): the command-line path, and tests."""
    wanted = set(sources) if sources else None
    reports: dict[str, LandingReport] = {}
    if wanted is None or "events" in wanted:
        reports["events"] = land_events(raw_dir, lake_dir, con)
    for spec in ALL_TABLES.values():
        if wanted is None or spec.source in wanted:
            reports[spec.source] = land_table(spec, raw_dir, lake_dir, con)
    return reports
