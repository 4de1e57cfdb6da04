"""Raw deliveries -> the Parquet lake: valid rows loaded, every other row quarantined.

No Dagster here, so landing can be tested (and run) without an orchestrator. One module
per concern:

- `specs`       what each raw source looks like (columns, keys, types, formats)
- `deliveries`  which raw files exist and which delivery each belongs to
- `reader`      event files -> one stream of numbered lines
- `csv_reader`  CSV files -> their header and the line of every record they delivered
- `events`      the event-line rules, one query per batch of deliveries
- `tables`      the CSV rules (database exports, reference sheets), one scan per header
- `swap`        writing lake folders aside and swapping them in, with a crash journal
- `report`      what a landing did, and row counts per delivery
- `duck`        the landing's DuckDB connection, and small SQL helpers
"""

from __future__ import annotations

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
    QUARANTINE_REASONS,
    REFERENCE_TABLES,
    TableSpec,
)
from orchestration.landing.tables import land_table

__all__ = [
    "ALL_TABLES",
    "DB_TABLES",
    "PARTITIONED_SOURCES",
    "QUARANTINE_REASONS",
    "REFERENCE_TABLES",
    "LandingReport",
    "RawDirectoryError",
    "TableSpec",
    "connect",
    "delivery_days",
    "delivery_key",
    "delivery_row_counts",
    "land_events",
    "land_table",
    "list_deliveries",
    "raw_files",
    "sql_text",
]
