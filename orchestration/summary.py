"""What a build tells its user at the end: rows landed per source, what it published,
what it quarantined and why, and where the files are."""

from __future__ import annotations

import duckdb
from dagster import ExecuteInProcessResult

from orchestration.preflight import UserError
from orchestration.settings import Settings


def landing_counts(result: ExecuteInProcessResult) -> list[tuple[str, int, int, int]]:
    """(source, received, loaded, quarantined) for every raw source the run landed."""
    counts = []
    for event in result.get_asset_materialization_events():
        materialization = event.event_specific_data.materialization
        metadata = materialization.metadata
        if "rows_received" in metadata:
            counts.append(
                (
                    materialization.asset_key.to_user_string(),
                    int(metadata["rows_received"].value),
                    int(metadata["rows_loaded"].value),
                    int(metadata["rows_quarantined"].value),
                )
            )
    return sorted(counts)


def print_summary(settings: Settings) -> None:
    path = settings.analytics_path
    if not path.exists():
        raise UserError(f"nothing published yet at {path}: run `make run` first.")
    con = duckdb.connect(str(path), read_only=True)
    tables = con.execute("""
        select schema_name || '.' || table_name, estimated_size
        from duckdb_tables() where schema_name in ('marts', 'ml') order by 1
    """).fetchall()
    print("\nPublished tables (analytics.duckdb):")
    for name, _ in tables:
        rows = con.execute(f"select count(*) from {name}").fetchone()[0]
        print(f"  {name:<40} {rows:>9,} rows")
    con.close()
    quarantine = settings.lake_dir / "quarantine"
    if any(quarantine.glob("**/*.parquet")):
        reasons = duckdb.sql(f"""
            select source, reason, count(*)
            from read_parquet('{quarantine}/**/*.parquet', union_by_name = true)
            group by all order by 1, 2
        """).fetchall()
        print("\nQuarantined raw rows (by source and reason):")
        if not reasons:
            print("  none")
        for source, reason, count in reasons:
            print(f"  {source:<24} {reason:<26} {count:>7,}")
        print(f"  details: {quarantine}/<source>/**/*.parquet (file, line, reason, raw text)")
    print(f"\nAnalytics database : {path}")
    print(
        f"  open it read-only: duckdb -readonly {path}   (or duckdb.connect(path, read_only=True))"
    )
    print(f"Warehouse (restricted, holds raw personal data): {settings.warehouse_path}")
    print("Dagster UI         : make dev   -> http://127.0.0.1:3000")
    print("dbt docs           : make docs  -> http://127.0.0.1:8080")
