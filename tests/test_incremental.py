"""Incremental = full refresh: day-by-day partition runs, out of order and with late
files (a near-real-time run among them, which refreshes only the headline marts
meanwhile), publish exactly the tables a full rebuild publishes, and leave the
incremental models with its rows."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from dagster import ExecuteInProcessResult

from orchestration.partitions import calendar_of, delivery_days
from orchestration.window import DeliveryWindow
from tests.conftest import build_platform, copy_delivery, query, settings_for
from tests.published import differences


def partition_run(
    raw: Path,
    data: Path,
    first: str,
    last: str,
    job_name: str = "build_everything",
    engine: str = "duckdb",
) -> ExecuteInProcessResult:
    result = build_platform(raw, data, DeliveryWindow(first, last), job_name, engine)
    assert result.success, f"partition run {first}..{last} failed"
    # It really is incremental: the events landing took in only the window's deliveries
    # (a ranged run records the landing once per partition, with the same metadata).
    landed = {
        event.event_specific_data.materialization.metadata["deliveries_landed"].value
        for event in result.get_asset_materialization_events()
        if event.event_specific_data.materialization.asset_key.to_user_string() == "raw_events"
    }
    assert len(landed) == 1, landed
    span = landed.pop().split(" (")[0].split(" .. ")
    assert all(first <= day <= last for day in span), (span, first, last)
    return result


def same_value(value: object) -> object:
    """A double as 12 significant digits: a sum of doubles depends on the order it adds
    them in (DuckDB's threads pick it), so the last bits of an average are not data."""
    return float(f"{value:.12g}") if isinstance(value, float) else value


# The incremental models themselves (tag:daily), compared in the warehouse: a column no
# mart publishes (a session's gap before its first event) must equal a rebuild's too.
INCREMENTAL_MODELS = (
    "intermediate.int_events_dated",
    "intermediate.int_events_sessionized",
    "intermediate.int_users_daily_active",
)


def published_tables(database: Path, names: tuple[str, ...] = ()) -> dict[str, list[tuple]]:
    """Every published table's rows (or those of `names`), doubles compared to 12
    significant digits."""
    names = [(name,) for name in names] or query(
        database,
        "select schema_name || '.' || table_name from duckdb_tables() "
        "where schema_name in ('marts', 'ml') "
        "and table_name not in ('publish_manifest', 'publish_tables') order by 1",
    )
    return {
        name: sorted(
            (tuple(same_value(v) for v in row) for row in query(database, f"select * from {name}")),
            key=repr,
        )
        for (name,) in names
    }


# The marts the near-real-time path rebuilds: tagged `headline`, and the marts they read.
HEADLINE_TABLES = {
    "marts.fct_daily_active_users",
    "marts.fct_growth_accounting",
    "marts.fct_daily_marketplace",
    "marts.fct_daily_marketplace_by_segment",
    "marts.fct_daily_growth_kpis",
    "marts.fct_marketplace_segments",
    "marts.dim_regions",
    "marts.dim_categories",
}


def freshness_by_table(database: Path) -> dict[str, tuple]:
    """marts.publish_tables: each table's (refreshed_at_utc, data_through as text)."""
    rows = query(
        database, "select table_name, refreshed_at_utc, data_through from marts.publish_tables"
    )
    assert all(refreshed is not None and through is not None for _, refreshed, through in rows)
    return {name: (refreshed, through.isoformat()) for name, refreshed, through in rows}


def dau_on(data: Path, day: str) -> int:
    """The published DAU of a day (0 when the day has no row)."""
    rows = query(
        data / "analytics.duckdb",
        f"select dau from marts.fct_daily_active_users where activity_date = '{day}'",
    )
    return rows[0][0] if rows else 0


def late_events(lake: Path) -> int:
    """Events delivered more than a day after their event date (they arrived late)."""
    with duckdb.connect() as con:
        return con.execute(f"""
            select count(*) from read_parquet('{lake}/events/*/*/*.parquet')
            where cast(_delivery as date) > event_date + 1
        """).fetchone()[0]


@pytest.mark.slow
def test_day_by_day_with_late_files_equals_full_rebuild(
    sample_raw_dir: Path, sample_build: tuple[Path, ExecuteInProcessResult], tmp_path: Path
) -> None:
    full_data, _ = sample_build
    day_by_day_with_late_files(sample_raw_dir, full_data, tmp_path, "duckdb")


def day_by_day_with_late_files(
    sample_raw_dir: Path, full_data: Path, tmp_path: Path, engine: str
) -> None:
    """Partition runs on `engine`, out of order and with late files, publish the tables
    of DuckDB's full rebuild (`full_data`), and leave the incremental models with its
    rows (tests/test_spark_cluster.py runs this on a Spark cluster)."""
    days = delivery_days(sample_raw_dir)
    calendar = calendar_of(settings_for(sample_raw_dir, tmp_path / "unused"))
    assert calendar == (days[0], days[-1]) and len(days) > 10
    raw, data = tmp_path / "raw", tmp_path / "data"
    shutil.copytree(sample_raw_dir / "reference", raw / "reference")

    # 1. A backfill of the first days as one run.
    for day in days[:-4]:
        copy_delivery(sample_raw_dir, raw, day)
    partition_run(raw, data, days[0], days[-5], engine=engine)
    # 2. Out of order: days[-2] arrives before days[-3], and goes the near-real-time way
    #    (the arrival sensor's run): only the headline marts are rebuilt and published.
    before = freshness_by_table(data / "analytics.duckdb")
    assert dau_on(data, days[-2]) == 0
    copy_delivery(sample_raw_dir, raw, days[-2])
    partition_run(raw, data, days[-2], days[-2], "refresh_headline", engine)
    after = freshness_by_table(data / "analytics.duckdb")
    assert after.keys() == before.keys()
    for table, (refreshed, through) in after.items():
        if table in HEADLINE_TABLES:
            assert refreshed > before[table][0] and through == days[-2], table
        else:  # left to the batch run, and published as of the run before
            assert (refreshed, through) == before[table] == (before[table][0], days[-5]), table
    assert dau_on(data, days[-2]) > 0  # the new delivery's users are counted at once
    # 3. days[-4] arrives in two parts: the first file is built, the second comes later.
    copy_delivery(sample_raw_dir, raw, days[-4], files="collector-a*")
    partition_run(raw, data, days[-4], days[-4], engine=engine)
    # 4. The rest of days[-4], days[-3] and the last day, as one range that also holds
    #    days[-2], built before (the batch run the sensor starts after the near-real-time
    #    one): a range rebuilds what it holds, late parts included.
    copy_delivery(sample_raw_dir, raw, days[-4])
    copy_delivery(sample_raw_dir, raw, days[-3])
    copy_delivery(sample_raw_dir, raw, days[-1])
    partition_run(raw, data, days[-4], days[-1], engine=engine)

    # The raw directories now match, and late events did arrive after their day was built.
    assert sorted(p.relative_to(raw).as_posix() for p in raw.rglob("*") if p.is_file()) == sorted(
        p.relative_to(sample_raw_dir).as_posix() for p in sample_raw_dir.rglob("*") if p.is_file()
    )
    assert late_events(data / "lake") > 0

    assert differences(full_data / "analytics.duckdb", data / "analytics.duckdb") == []
    built = settings_for(raw, data, engine).warehouse_location
    assert differences(full_data / "warehouse.duckdb", built, tables=INCREMENTAL_MODELS) == []
