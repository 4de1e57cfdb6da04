"""What a landing did, and what the lake holds: the figures a person checks first."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from orchestration.landing.duck import sql_text


@dataclass
class LandingReport:
    """What one landing did: files read, rows received, loaded and quarantined by reason."""

    source: str
    files_read: list[str] = field(default_factory=list)
    rows_received: int = 0
    rows_loaded: int = 0
    quarantined_by_reason: dict[str, int] = field(default_factory=dict)
    rejected_files: dict[str, str] = field(default_factory=dict)  # file -> why
    extra_columns: dict[str, list[str]] = field(default_factory=dict)  # file -> ignored columns
    partitions: list[str] = field(default_factory=list)  # event dates touched (events only)
    deliveries: list[str] = field(default_factory=list)  # delivery folders (re)landed

    @property
    def rows_quarantined(self) -> int:
        return sum(self.quarantined_by_reason.values())

    @property
    def conserved(self) -> bool:
        return self.rows_received == self.rows_loaded + self.rows_quarantined

    def count_quarantine(self, con: duckdb.DuckDBPyConnection, table: str) -> None:
        """Add the reasons of the quarantined rows in `table` to the report."""
        rows = con.execute(f"select reason, count(*) from {table} group by reason order by reason")
        for reason, count in rows.fetchall():
            self.quarantined_by_reason[reason] = self.quarantined_by_reason.get(reason, 0) + int(
                count
            )


def delivery_row_counts(lake_dir: Path, source: str) -> dict[str, int]:
    """Valid rows per delivery in the lake for a partitioned source (events or a db table)."""
    folder = lake_dir / "events" if source == "events" else lake_dir / "db" / source
    if not folder.is_dir() or not any(folder.glob("*/**/*.parquet")):
        return {}
    pattern = sql_text(str(folder))
    with duckdb.connect() as con:
        rows = con.execute(f"""
            select _delivery, count(*)
            from read_parquet('{pattern}/*/**/*.parquet', union_by_name = true,
                hive_partitioning = false)
            group by 1 order by 1
        """).fetchall()
    return {str(delivery): int(count) for delivery, count in rows}
