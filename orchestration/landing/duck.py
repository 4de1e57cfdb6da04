"""The landing's DuckDB connection (in memory, with deliberate limits, spilling to disk; the
publish opens its file with the same limits),
and small SQL helpers (`scalar`, `sql_text`, `sql_list`)."""

from __future__ import annotations

from pathlib import Path

import duckdb


def connect(
    memory_limit: str = "2GB",
    threads: int = 2,
    temp_dir: Path | None = None,
    database: Path | None = None,
) -> duckdb.DuckDBPyConnection:
    """A DuckDB with deliberate limits: in memory for landing (it never opens the warehouse
    file), or the `database` file the publish writes.

    Past `memory_limit` DuckDB spills to `temp_dir` instead of failing, so a landing of
    any size fits the machine; `preserve_insertion_order` stays on (line numbers of CSV
    records rely on the order rows are read in).
    """
    con = duckdb.connect(
        str(database) if database else ":memory:",
        config={"memory_limit": memory_limit, "threads": threads},
    )
    if temp_dir is not None:
        temp_dir.mkdir(parents=True, exist_ok=True)
        con.execute(f"set temp_directory = '{sql_text(str(temp_dir))}'")
    con.execute("set TimeZone = 'UTC'")
    con.execute("set enable_progress_bar = false")
    return con


def scalar(con: duckdb.DuckDBPyConnection, query: str) -> object:
    """The one value `query` returns (its result read to the end, so the connection is free
    for the next statement)."""
    return con.execute(query).fetchall()[0][0]


def sql_text(value: str) -> str:
    """`value` for use inside a single-quoted SQL string literal."""
    return value.replace("'", "''")


def sql_list(values: list[str]) -> str:
    """A SQL list literal of strings: ['a', 'b']."""
    return "[" + ", ".join(f"'{sql_text(value)}'" for value in values) + "]"
