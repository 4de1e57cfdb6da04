"""Two published databases compared table by table: the same tables, the same columns
and types, the same rows (as multisets), floats equal within a relative tolerance."""

from __future__ import annotations

import math
from pathlib import Path

import duckdb

# Rows that say which publish a file is (ids, times) differ between any two publishes.
PUBLISH_BOOKKEEPING = ("marts.publish_manifest", "marts.publish_tables")
FLOAT_TYPES = ("DOUBLE", "FLOAT", "REAL")


def _tables(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[str, str]]]:
    rows = con.execute(
        "select schema_name || '.' || table_name, column_name, data_type "
        "from duckdb_columns() where database_name = current_database() "
        "order by schema_name, table_name, column_index"
    ).fetchall()
    tables: dict[str, list[tuple[str, str]]] = {}
    for table, column, kind in rows:
        if table not in PUBLISH_BOOKKEEPING:
            tables.setdefault(table, []).append((column, kind))
    return tables


def _close(a: object, b: object, rel: float) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b or abs(a - b) <= rel * max(abs(a), abs(b))
    return a == b


def _sorted_rows(rows: list[tuple], floats: list[int]) -> list[tuple]:
    """Rows in an order that does not depend on the last bits of a float: by every other
    column first, then the floats rounded."""

    def key(row: tuple) -> tuple:
        exact = tuple(repr(v) for i, v in enumerate(row) if i not in floats)
        rounded = tuple(
            repr(round(row[i], 6)) if isinstance(row[i], float) else repr(row[i]) for i in floats
        )
        return exact + rounded

    return sorted(rows, key=key)


def differences(expected: Path, actual: Path, rel: float = 1e-9) -> list[str]:
    """Every way `actual` differs from `expected` (empty when they hold the same data)."""
    found: list[str] = []
    with (
        duckdb.connect(str(expected), read_only=True) as one,
        duckdb.connect(str(actual), read_only=True) as two,
    ):
        left, right = _tables(one), _tables(two)
        for table in sorted(left.keys() ^ right.keys()):
            found.append(f"{table}: only in {'expected' if table in left else 'actual'}")
        for table in sorted(left.keys() & right.keys()):
            if left[table] != right[table]:
                found.append(f"{table}: columns {left[table]} != {right[table]}")
                continue
            floats = [i for i, (_, kind) in enumerate(left[table]) if kind in FLOAT_TYPES]
            a = _sorted_rows(one.execute(f"select * from {table}").fetchall(), floats)
            b = _sorted_rows(two.execute(f"select * from {table}").fetchall(), floats)
            if len(a) != len(b):
                found.append(f"{table}: {len(a)} rows != {len(b)} rows")
                continue
            unequal = [
                (x, y)
                for x, y in zip(a, b, strict=True)
                if not all(_close(u, v, rel) for u, v in zip(x, y, strict=True))
            ]
            if unequal:
                x, y = unequal[0]
                found.append(f"{table}: {len(unequal)} rows differ, first {x} != {y}")
    return found
