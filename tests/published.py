"""Two published databases (or warehouses) compared table by table: the same tables, the
same columns and types, the same rows (as multisets), floats equal within a relative
tolerance."""

from __future__ import annotations

import math
from decimal import Decimal
from pathlib import Path

import duckdb

from orchestration.spark_warehouse import open_read_only

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


def _values(cursor: duckdb.DuckDBPyConnection, across_engines: tuple[str, ...]) -> list[tuple]:
    """A query's rows; across engines a decimal is read as a double (Spark divides a
    bigint by a decimal literal into a decimal, DuckDB into a double)."""
    rows = cursor.fetchall()
    if not across_engines:
        return rows
    return [tuple(float(v) if isinstance(v, Decimal) else v for v in row) for row in rows]


def differences(
    expected: Path,
    actual: Path,
    rel: float = 1e-9,
    tables: tuple[str, ...] = (),
) -> list[str]:
    """Every way `actual` differs from `expected` (empty when they hold the same data).
    Either may be a DuckDB file or a Spark warehouse folder. With `tables`, only those
    are compared, their columns by name (Spark puts a partition column last)."""
    found: list[str] = []
    with open_read_only(expected) as one, open_read_only(actual) as two:
        left, right = _tables(one), _tables(two)
        if tables:
            found += [f"{name}: in neither" for name in tables if name not in left | right]
            left = {name: sorted(left[name]) for name in tables if name in left}
            right = {name: sorted(right[name]) for name in tables if name in right}
        for table in sorted(left.keys() ^ right.keys()):
            found.append(f"{table}: only in {'expected' if table in left else 'actual'}")
        for table in sorted(left.keys() & right.keys()):
            same = (
                [c for c, _ in left[table]] == [c for c, _ in right[table]]
                if tables  # models of two engines: the same columns (types are each engine's)
                else left[table] == right[table]
            )
            if not same:
                found.append(f"{table}: columns {left[table]} != {right[table]}")
                continue
            floats = [i for i, (_, kind) in enumerate(left[table]) if kind in FLOAT_TYPES]
            columns = ", ".join(f'"{column}"' for column, _ in left[table])
            a = _sorted_rows(_values(one.execute(f"select {columns} from {table}"), tables), floats)
            b = _sorted_rows(_values(two.execute(f"select {columns} from {table}"), tables), floats)
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
