"""The comparison behind the Spark and incremental tests (tests/published.py) finds what
it must find."""

from __future__ import annotations

from pathlib import Path

import duckdb

from tests.published import differences


def _database(path: Path, rows: list[tuple], kind: str = "double") -> Path:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute(f"create table marts.t (day date, n bigint, rate {kind})")
        con.executemany("insert into marts.t values (?, ?, ?)", rows)
        con.execute("create table marts.publish_manifest as select uuid() as publish_id")
    return path


ROWS = [("2026-09-01", 1, 0.1), ("2026-09-02", 2, 1 / 3), ("2026-09-03", 3, None)]


def test_equal_databases_and_rounding_noise_and_row_order_pass(tmp_path: Path) -> None:
    noisy = [(d, n, r * (1 + 1e-12) if r else r) for d, n, r in reversed(ROWS)]
    assert differences(_database(tmp_path / "a", ROWS), _database(tmp_path / "b", noisy)) == []


def test_a_float_beyond_the_tolerance_a_lost_row_and_a_type_are_each_reported(
    tmp_path: Path,
) -> None:
    expected = _database(tmp_path / "a", ROWS)
    off = [(d, n, r * (1 + 1e-6) if r else r) for d, n, r in ROWS]
    assert "2 rows differ" in differences(expected, _database(tmp_path / "b", off))[0]
    assert "3 rows != 2 rows" in differences(expected, _database(tmp_path / "c", ROWS[:2]))[0]
    assert "columns" in differences(expected, _database(tmp_path / "d", ROWS, "decimal(9,6)"))[0]
    (tmp_path / "e").unlink(missing_ok=True)
    with duckdb.connect(str(tmp_path / "e")) as con:
        con.execute("create schema marts")
    assert differences(expected, tmp_path / "e") == ["marts.t: only in expected"]
