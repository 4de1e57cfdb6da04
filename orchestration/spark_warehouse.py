"""Spark's warehouse as DuckDB sees it: the Parquet tables dbt wrote on Spark, as views.

On Spark dbt writes every table as Parquet under `<DONGNE_DATA_DIR>/spark/warehouse/`
(DONGNE_ENGINE=spark) or `<DONGNE_DATA_DIR>/cluster/warehouse/` (spark-cluster), one
`<schema>.db/<table>/` folder each. DuckDB reads those folders directly, so the rest of
the platform (the asset metadata after a dbt run, the publish of analytics.duckdb, the
tests' comparisons) works on them as on `warehouse.duckdb`: `attach_spark_warehouse`
attaches an in-memory catalog whose schemas and views are Spark's schemas and tables, and
`open_read_only` opens either kind of warehouse read-only. The views carry no
descriptions (Spark keeps none in the files): the publish takes them from dbt's manifest.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from orchestration.landing import sql_text

SPARK_DEFAULT_SCHEMA = "default"


def spark_tables(warehouse_dir: Path) -> list[tuple[str, str, Path]]:
    """(schema, table, folder) of every Parquet table in a Spark warehouse folder: a
    schema is a `<schema>.db` folder; tables of the default schema sit at the top."""
    found = []
    if not warehouse_dir.is_dir():
        return found
    for folder in sorted(warehouse_dir.iterdir()):
        if not folder.is_dir() or folder.name.startswith((".", "_")):
            continue
        if folder.name.endswith(".db"):
            schema = folder.name.removesuffix(".db")
            found += [
                (schema, table.name, table)
                for table in sorted(folder.iterdir())
                if table.is_dir() and any(table.rglob("*.parquet"))
            ]
        elif any(folder.rglob("*.parquet")):
            found.append((SPARK_DEFAULT_SCHEMA, folder.name, folder))
    return found


def open_read_only(location: Path) -> duckdb.DuckDBPyConnection:
    """A read-only DuckDB view of what dbt built at `location`: a DuckDB file, or a Spark
    warehouse folder (perhaps not made yet), whose tables become views (staging's views
    live only in Spark's catalog)."""
    if location.is_dir() or (not location.exists() and location.suffix != ".duckdb"):
        con = duckdb.connect()
        attach_spark_warehouse(con, location)
        con.execute("use warehouse")
        return con
    return duckdb.connect(str(location), read_only=True)


def attach_spark_warehouse(
    con: duckdb.DuckDBPyConnection, warehouse_dir: Path, alias: str = "warehouse"
) -> int:
    """Attach Spark's tables under `alias` as views over their Parquet files; returns how
    many tables there are."""
    con.execute(f"attach ':memory:' as {alias}")
    tables = spark_tables(warehouse_dir)
    for schema in sorted({schema for schema, _, _ in tables}):
        con.execute(f'create schema if not exists {alias}."{schema}"')
    for schema, table, folder in tables:
        files = sql_text(str(folder / "**" / "*.parquet"))
        con.execute(
            f'create view {alias}."{schema}"."{table}" as '
            f"select * from read_parquet('{files}', hive_partitioning = true)"
        )
    return len(tables)
