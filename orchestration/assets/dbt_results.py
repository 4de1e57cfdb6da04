"""What a dbt invocation's results tell, read after dbt exits (dbt-duckdb holds the
warehouse file for the whole run): each table's row count and schema on its
materialization, each failed or warning check with the first rows it found, and the metric
anomalies to alert (docs/marts.md, "Metric anomalies")."""

from collections.abc import Iterator, Mapping
from typing import Any

import duckdb
from dagster import AssetCheckResult, AssetMaterialization, MetadataValue, Output

from orchestration.notify import AnomalyAlert, NotifierResource
from orchestration.observability import markdown_table, table_metadata
from orchestration.resources import PlatformResource
from orchestration.settings import Settings
from orchestration.spark_warehouse import open_read_only


def warehouse_reader(settings: Settings) -> duckdb.DuckDBPyConnection:
    """A read-only DuckDB view of what dbt built: warehouse.duckdb, or on Spark its
    Parquet tables (as views)."""
    return open_read_only(settings.warehouse_location)


def with_table_metadata(
    events: list[Any],
    platform: PlatformResource,
    relations: dict[str, tuple[str, str, dict[str, str]]],
    compiled: Mapping[str, str] | None = None,
) -> Iterator[Any]:
    """dbt's events, each materialization with its table's row count and column schema,
    and each failed or warning check with the first rows it found (`compiled`: each test's
    SQL as dbt ran it), so the UI names what is wrong, not only how many rows.

    dbt-duckdb holds the warehouse file for the whole dbt run, so the tables are read
    after dbt exits (the events are held until then), on a read-only connection.
    """
    settings = platform.settings()
    with warehouse_reader(settings) as con:
        for event in events:
            unique_id = getattr(getattr(event, "metadata", {}).get("unique_id"), "value", "")
            if isinstance(event, Output | AssetMaterialization) and unique_id in relations:
                extra = table_metadata(con, *relations[unique_id], count_views=settings.is_spark)
                event = event.with_metadata({**event.metadata, **extra})
            elif isinstance(event, AssetCheckResult) and not event.passed:
                event = with_failing_rows(con, event, (compiled or {}).get(unique_id))
            yield event


FAILING_ROWS_SHOWN = 10


def with_failing_rows(
    con: duckdb.DuckDBPyConnection, check: AssetCheckResult, sql: str | None
) -> AssetCheckResult:
    """A failed check with the first rows its test returned (a markdown table) and a
    sentence naming the first of them: what the UI, the alerts and the build's summary show.
    Unchanged when the test's SQL cannot run here (on Spark it is Spark's SQL)."""
    if not sql:
        return check
    try:
        cursor = con.execute(f"select * from ({sql}) limit {FAILING_ROWS_SHOWN}")
        names = [column[0] for column in cursor.description]
        rows = cursor.fetchall()
    except duckdb.Error:
        return check
    if not rows:
        return check
    count = getattr(check.metadata.get("dagster_dbt/failed_row_count"), "value", len(rows))
    first = ", ".join(f"{name} {value}" for name, value in zip(names, rows[0], strict=True))
    return check._replace(
        metadata={
            **check.metadata,
            "failing_rows": MetadataValue.md(markdown_table(names, rows, width=None)),
        },
        description=f"{check.check_name}: {count} rows, the first: {first}",
    )


# docs/marts.md, "Metric anomalies": what the alert tells, once per metric, day and direction.
RECENT_ANOMALIES = """
    select metric_label, cast(metric_date as varchar), figure, lower_bound, upper_bound,
        direction, sentence
    from marts.fct_metric_anomalies
    where is_anomaly
        and metric_date > (select max(metric_date) from marts.fct_metric_anomalies) - 7
"""
ANOMALIES_DASHBOARD = "growth"
ANOMALIES_MODEL = "model.dongne.fct_metric_anomalies"


def alert_metric_anomalies(
    settings: Settings, notifier: NotifierResource, run_url: str
) -> list[AnomalyAlert]:
    """Send an alert for each anomaly of the seven newest judged days not alerted before
    (the check `assert_no_metric_anomalies_this_week` shows the same rows as a warning)."""
    with warehouse_reader(settings) as con:
        rows = con.execute(RECENT_ANOMALIES).fetchall()
    return notifier.send_new_anomalies(
        AnomalyAlert(
            metric,
            day,
            figure,
            low,
            high,
            direction,
            sentence,
            dashboard_url=notifier.dashboard_url(ANOMALIES_DASHBOARD),
            run_url=run_url,
        )
        for metric, day, figure, low, high, direction, sentence in rows
    )
