"""The whole platform on a generated delivery: contract tables, correctness, idempotence."""

from __future__ import annotations

from pathlib import Path

import pytest
from dagster import ExecuteInProcessResult

from tests import oracle
from tests.conftest import build_platform, query, tree_digest

CONTRACT_COLUMNS = {
    "fct_daily_active_users": ["activity_date", "dau", "wau", "mau"],
    "fct_growth_accounting": [
        "activity_date",
        "new_users",
        "retained_users",
        "resurrected_users",
        "churned_users",
    ],
    "fct_sessions": [
        "session_id",
        "user_id",
        "device_id",
        "session_start_at",
        "session_end_at",
        "session_date",
        "duration_seconds",
        "event_count",
    ],
    "fct_daily_marketplace": ["kpi_date", "listings_created", "completed_trades", "gmv_krw"],
}

ORDERED_SELECT = {
    "fct_daily_active_users": "select activity_date, dau, wau, mau "
    "from marts.fct_daily_active_users "
    "order by 1",
    "fct_growth_accounting": "select activity_date, new_users, retained_users, resurrected_users, "
    "churned_users from marts.fct_growth_accounting order by 1",
    "fct_sessions": "select user_id, device_id, session_start_at, session_end_at, session_date, "
    "round(duration_seconds, 6), event_count from marts.fct_sessions order by all",
    "fct_daily_marketplace": "select kpi_date, listings_created, completed_trades, gmv_krw "
    "from marts.fct_daily_marketplace order by 1",
}


def test_build_publishes_every_contract_table_with_its_columns(
    sample_build: tuple[Path, ExecuteInProcessResult],
) -> None:
    data_dir, _ = sample_build
    db = data_dir / "analytics.duckdb"
    for table, columns in CONTRACT_COLUMNS.items():
        published = [
            row[0]
            for row in query(
                db,
                f"""
            select column_name from duckdb_columns()
            where schema_name = 'marts' and table_name = '{table}' order by column_index
        """,
            )
        ]
        assert published[: len(columns)] == columns, table
        assert query(db, f"select count(*) from marts.{table}")[0][0] > 0, table


@pytest.mark.parametrize("table", sorted(ORDERED_SELECT))
def test_marts_equal_an_independent_implementation_of_the_contract(
    table: str, sample_raw_dir: Path, sample_build: tuple[Path, ExecuteInProcessResult]
) -> None:
    data_dir, _ = sample_build
    expected = oracle.marts(sample_raw_dir)[table]
    published = query(data_dir / "analytics.duckdb", ORDERED_SELECT[table])
    if table == "fct_sessions":
        expected = sorted(expected, key=lambda row: tuple((v is None, v) for v in row))
        published = sorted(published, key=lambda row: tuple((v is None, v) for v in row))
    assert len(published) == len(expected)
    assert published == expected


def test_every_landing_conserves_rows_and_passes_its_check(
    sample_build: tuple[Path, ExecuteInProcessResult],
) -> None:
    _, result = sample_build
    checks = [
        e.event_specific_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    ]
    conservation = [c for c in checks if c.check_name == "rows_conserved"]
    assert len(conservation) == 11  # one per raw source
    assert all(c.passed for c in conservation)
    for event in result.get_asset_materialization_events():
        metadata = event.event_specific_data.materialization.metadata
        if "rows_received" in metadata:
            received = metadata["rows_received"].value
            assert received == metadata["rows_loaded"].value + metadata["rows_quarantined"].value


def test_a_second_run_on_the_same_raw_data_changes_nothing(
    sample_raw_dir: Path, sample_build: tuple[Path, ExecuteInProcessResult]
) -> None:
    data_dir, _ = sample_build
    db = data_dir / "analytics.duckdb"
    before = {table: query(db, sql) for table, sql in ORDERED_SELECT.items()}
    session_ids = query(db, "select session_id from marts.fct_sessions order by 1")
    raw_before = tree_digest(sample_raw_dir)
    assert build_platform(sample_raw_dir, data_dir).success
    assert {table: query(db, sql) for table, sql in ORDERED_SELECT.items()} == before
    assert query(db, "select session_id from marts.fct_sessions order by 1") == session_ids
    assert tree_digest(sample_raw_dir) == raw_before


def test_published_file_is_read_only_and_names_its_publish(
    sample_build: tuple[Path, ExecuteInProcessResult],
) -> None:
    data_dir, _ = sample_build
    db = data_dir / "analytics.duckdb"
    assert db.stat().st_mode & 0o222 == 0
    [(publish_id, tables)] = query(db, "select publish_id, table_count from marts.publish_manifest")
    assert len(publish_id) == 32 and tables >= 4
    assert not list(data_dir.glob(".analytics.duckdb.*"))  # no debris left by the swap
