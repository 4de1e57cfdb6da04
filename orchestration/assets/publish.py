"""The warehouse (warehouse.duckdb, or Spark's Parquet tables) -> analytics.duckdb,
atomically: the only file analysts open.

Only the `marts` and `ml` schemas are copied, and a column named like personal data or a
raw person id stops the publish; tables and columns are described from dbt's manifest,
and `marts.publish_tables` and `marts.publish_manifest` say which publish the file is,
each table's row count and how fresh it is.

A new file is built beside the old one and renamed over it. Readers that have the old
file open keep reading the old version (the rename does not touch their open file);
new readers get the new version whole. Publishing never waits for readers.
"""

import json
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
from dagster import (
    AssetExecutionContext,
    AssetsDefinition,
    MaterializeResult,
    MetadataValue,
    asset,
)

from orchestration import failpoints
from orchestration.assets.transform import dbt_project
from orchestration.freshness import freshness_path, load_freshness
from orchestration.landing import connect, sql_text
from orchestration.observability import bar_chart, markdown_preview
from orchestration.resources import WAREHOUSE_POOL, PlatformResource
from orchestration.settings import DEFAULT_DUCKDB_MEMORY_LIMIT, Settings, dashboards_url
from orchestration.spark_warehouse import attach_spark_warehouse

PUBLISHED_SCHEMAS = ("marts", "ml")
PERSONAL_DATA_COLUMNS = frozenset({"nickname", "email", "phone"})
# A person's id is published only as its key (`user_key`, ...): docs/marts.md.
RAW_PERSON_ID_COLUMNS = frozenset({"user_id", "seller_id", "buyer_id", "author_id", "device_id"})
MANIFEST_TABLE = "marts.publish_manifest"
TABLES_TABLE = "marts.publish_tables"
TABLES_COMMENTS = (
    f"comment on table {TABLES_TABLE} is 'Every table of this publish: its row count, when "
    "its data was last rebuilt and the newest delivery it includes (publish_id as in "
    "publish_manifest).'",
    f"comment on column {TABLES_TABLE}.refreshed_at_utc is 'When dbt last rebuilt the table "
    "(UTC). The near-real-time path rebuilds the headline marts on every arrival; the rest "
    "follow in the next batch run.'",
    f"comment on column {TABLES_TABLE}.data_through is 'The newest delivery day the table "
    "includes: the newest delivery landed when it was last rebuilt.'",
)
# The Superset dashboards of bi/bundle/ (their slugs), served by `make bi`.
DASHBOARDS = ("growth", "marketplace", "experiments", "incidents")


class PublishError(RuntimeError):
    """The warehouse cannot be published as it is: the message says why."""


@dataclass(frozen=True)
class PublishReport:
    publish_id: str
    path: Path
    row_counts: dict[str, int]


def published_tables(con: duckdb.DuckDBPyConnection, catalog: str) -> list[tuple[str, str]]:
    schemas = ", ".join(f"'{schema}'" for schema in PUBLISHED_SCHEMAS)
    rows = con.execute(
        f"""
        select schema_name, table_name
        from duckdb_tables()
        where database_name = ? and schema_name in ({schemas})
        union all
        select schema_name, view_name
        from duckdb_views()
        where database_name = ? and schema_name in ({schemas}) and not internal
        order by 1, 2
    """,
        [catalog, catalog],
    ).fetchall()
    return [(schema, table) for schema, table in rows]


def refuse_personal_columns(columns: list[tuple[str, str, str]]) -> None:
    """Fail, naming them, if any (schema, table, column) holds personal data or a raw
    person id: the published database holds neither (docs/marts.md)."""
    personal = sorted(f"{s}.{t}.{c}" for s, t, c in columns if c.lower() in PERSONAL_DATA_COLUMNS)
    raw_ids = sorted(f"{s}.{t}.{c}" for s, t, c in columns if c.lower() in RAW_PERSON_ID_COLUMNS)
    problems = []
    if personal:
        problems.append(f"personal data columns: {', '.join(personal)}")
    if raw_ids:
        problems.append(
            f"raw person id columns: {', '.join(raw_ids)} (publish the id's key instead: "
            "{{ keyed_hash('<column>') }} as <person>_key; docs/marts.md, Person identifiers)"
        )
    if problems:
        raise PublishError("refusing to publish " + "; ".join(problems))


def staging_path(target: Path, publish_id: str) -> Path:
    """Where a publish writes its new file: beside `target`, never `target` itself."""
    return target.with_name(f".{target.name}.{publish_id[:12]}.tmp")


def publish_analytics_db(
    warehouse: Path,
    target: Path,
    manifest: Path | None = None,
    freshness: Mapping[str, Mapping[str, str | None]] | None = None,
    memory_limit: str = DEFAULT_DUCKDB_MEMORY_LIMIT,
    threads: int = 2,
    temp_dir: Path | None = None,
) -> PublishReport:
    """Copy the `marts` and `ml` schemas of the warehouse into a fresh file, then swap it in.

    `warehouse` is warehouse.duckdb, or on Spark its warehouse folder of Parquet tables:
    the published file is the same either way. Tables and columns are described from dbt's
    `manifest` (the models' yml).
    `freshness` (orchestration/freshness.py) says when each table was last rebuilt and the
    newest delivery it includes: `marts.publish_tables` carries both.
    The copy runs inside DuckDB's `memory_limit` and `threads`, spilling to `temp_dir`, as
    landing and dbt do: without them DuckDB takes 80 % of the machine's memory (at L the
    copy held 4.6 GiB).
    """
    if not warehouse.exists():
        raise PublishError(f"no warehouse at {warehouse}: build the dbt models before publishing.")
    publish_id = uuid.uuid4().hex
    staging = staging_path(target, publish_id)
    row_counts: dict[str, int] = {}
    con = connect(memory_limit, threads, temp_dir, database=staging)
    try:
        if warehouse.is_dir():
            attach_spark_warehouse(con, warehouse, "warehouse")
        else:
            con.execute(f"attach '{sql_text(str(warehouse))}' as warehouse (read_only)")
        tables = published_tables(con, "warehouse")
        if not tables:
            raise PublishError(f"the warehouse {warehouse} has no tables in {PUBLISHED_SCHEMAS}.")
        columns = con.execute(f"""
            select schema_name, table_name, column_name
            from duckdb_columns()
            where database_name = 'warehouse' and schema_name in {PUBLISHED_SCHEMAS}
        """).fetchall()
        refuse_personal_columns(columns)
        for schema in PUBLISHED_SCHEMAS:
            con.execute(f"create schema if not exists {schema}")
        for schema, table in tables:
            con.execute(
                f'create table {schema}."{table}" as select * from warehouse.{schema}."{table}"'
            )
            row_counts[f"{schema}.{table}"] = con.execute(
                f'select count(*) from {schema}."{table}"'
            ).fetchone()[0]
        if manifest is not None and manifest.exists():
            (published,) = con.execute("select current_database()").fetchone()
            describe(con, published, set(tables), manifest)
        # Every table's row count under this publish id: a reader checks, in one
        # connection, that what it sees is whole and of one version.
        con.execute(
            f"create table {TABLES_TABLE} (publish_id varchar, table_name varchar, "
            "row_count bigint, refreshed_at_utc timestamp, data_through date)"
        )
        known = freshness or {}
        con.executemany(
            f"insert into {TABLES_TABLE} values (?, ?, ?, ?, ?)",
            [
                [
                    publish_id,
                    name,
                    rows,
                    known.get(name, {}).get("refreshed_at_utc") or None,
                    known.get(name, {}).get("data_through") or None,
                ]
                for name, rows in sorted(row_counts.items())
            ],
        )
        for statement in TABLES_COMMENTS:
            con.execute(statement)
        con.execute(
            f"""
            create table {MANIFEST_TABLE} as
            select ?::varchar as publish_id, ?::timestamp as published_at_utc,
                   ?::varchar as source_warehouse, ?::bigint as table_count
        """,
            [publish_id, datetime.now(UTC).replace(tzinfo=None), warehouse.name, len(tables)],
        )
        con.execute(
            "comment on table marts.publish_manifest is "
            "'Which publish this file is: one row, written last.'"
        )
        con.execute("detach warehouse")
        con.execute("checkpoint")
    except BaseException:
        con.close()
        staging.unlink(missing_ok=True)
        raise
    con.close()
    staging.chmod(0o444)  # a published copy is read-only: open it with read_only=True
    failpoints.reach("publish.swap")  # crash-safety tests: killed with the new file written
    os.replace(staging, target)
    for leftover in target.parent.glob(f".{target.name}.*.tmp"):
        leftover.unlink(missing_ok=True)  # debris of an interrupted earlier publish
    return PublishReport(publish_id=publish_id, path=target, row_counts=row_counts)


def describe(
    con: duckdb.DuckDBPyConnection, alias: str, tables: set[tuple[str, str]], manifest: Path
) -> None:
    """Comments on the tables and their columns in catalog `alias`: the models'
    descriptions in dbt's yml, read from its `manifest`. The published database gets its
    descriptions this way on every engine (dbt does not write them into the warehouse)."""
    nodes = json.loads(manifest.read_text())["nodes"].values()
    for node in nodes:
        key = (node.get("schema"), node.get("alias") or node.get("name"))
        if key not in tables:
            continue
        relation = f'{alias}."{key[0]}"."{key[1]}"'
        if node.get("description"):
            con.execute(f"comment on table {relation} is '{sql_text(node['description'])}'")
        present = {
            name
            for (name,) in con.execute(
                "select column_name from duckdb_columns() "
                "where database_name = ? and schema_name = ? and table_name = ?",
                [alias, *key],
            ).fetchall()
        }
        for name, column in (node.get("columns") or {}).items():
            if name in present and column.get("description"):
                con.execute(
                    f'comment on column {relation}."{name}" '
                    f"is '{sql_text(column['description'])}'"
                )


def build_analytics_db(dbt_models: AssetsDefinition) -> AssetsDefinition:
    """The publish asset, downstream of the dbt models of the published schemas."""

    @asset(
        name="analytics_db",
        group_name="publish",
        kinds={"duckdb"},
        owners=["team:data-platform"],
        deps=[spec.key for spec in dbt_models.specs if spec.group_name in PUBLISHED_SCHEMAS],
        pool=WAREHOUSE_POOL,
        description="The read-only analytics database (marts and ml schemas, no personal "
        "data), published atomically to <DONGNE_DATA_DIR>/analytics.duckdb. Its dashboards: "
        "`make bi` (Superset on http://127.0.0.1:8088).",
    )
    def analytics_db(
        context: AssetExecutionContext, platform: PlatformResource
    ) -> MaterializeResult:
        return publish_step(context, platform.settings())

    return analytics_db


def publish_step(context: AssetExecutionContext, settings: Settings) -> MaterializeResult:
    """Publish the warehouse and describe what was published (the asset's metadata)."""
    report = publish_analytics_db(
        settings.warehouse_location,
        settings.analytics_path,
        dbt_project(settings).manifest_path,
        load_freshness(freshness_path(settings.data_dir)),
        memory_limit=settings.duckdb_memory_limit,
        threads=settings.duckdb_threads,
        temp_dir=settings.tmp_dir,
    )
    table = "\n".join(
        [
            "| table | rows |",
            "|---|---|",
            *[f"| {name} | {rows} |" for name, rows in sorted(report.row_counts.items())],
        ]
    )
    context.log.info(f"published {len(report.row_counts)} tables to {report.path}")
    metadata: dict[str, object] = {
        "path": MetadataValue.path(str(report.path)),
        "publish_id": MetadataValue.text(report.publish_id),
        "tables": MetadataValue.md(table),
        "dagster/row_count": MetadataValue.int(sum(report.row_counts.values())),
    }
    # The BI dashboards read this file (make bi): where to look at what was published.
    boards = {name: f"{dashboards_url()}/superset/dashboard/{name}/" for name in DASHBOARDS}
    metadata["dashboards"] = MetadataValue.url(boards["growth"])
    metadata["dashboard_list"] = MetadataValue.md(
        " · ".join(f"[{name.capitalize()}]({url})" for name, url in boards.items())
    )
    with duckdb.connect(str(report.path), read_only=True) as con:
        metadata.update(published_views(con, report.row_counts))
    return MaterializeResult(metadata=metadata)


# The latest rows of each headline mart, newest first by this column.
PREVIEWS = {
    "marts.fct_daily_active_users": "activity_date",
    "marts.fct_daily_marketplace": "kpi_date",
    "marts.fct_growth_accounting": "activity_date",
    "marts.fct_retention_cohorts": "cohort_week",
    "marts.fct_experiment_results": "experiment_id",
    "marts.fct_incident_impact": "incident_id",
}
CHART_DAYS = 14


def published_views(
    con: duckdb.DuckDBPyConnection, row_counts: dict[str, int]
) -> dict[str, object]:
    """Previews of the headline marts, DAU and GMV charts, and the last complete day's
    numbers (numeric metadata: the asset's Plots tab charts them across publishes, so a day
    still arriving must never be one of them: docs/marts.md, "Complete days")."""
    metadata: dict[str, object] = {}
    for relation, order_by in PREVIEWS.items():
        if relation in row_counts:
            preview = markdown_preview(con, relation, order_by)
            metadata[f"preview_{relation.split('.')[1]}"] = MetadataValue.md(preview)
    if "marts.fct_daily_active_users" in row_counts and "marts.fct_daily_marketplace" in row_counts:
        days = con.execute(f"""
            select cast(dau.activity_date as varchar), dau.dau, coalesce(market.gmv_krw, 0),
                dau.is_complete
            from marts.fct_daily_active_users as dau
            left join marts.fct_daily_marketplace as market
                on dau.activity_date = market.kpi_date
            order by dau.activity_date desc
            limit {CHART_DAYS}
        """).fetchall()[::-1]
        labels = [day if complete else f"{day} (arriving)" for day, _, _, complete in days]
        metadata["chart_dau"] = MetadataValue.md(
            bar_chart([(label, float(d[1])) for label, d in zip(labels, days, strict=True)])
        )
        metadata["chart_gmv_krw"] = MetadataValue.md(
            bar_chart([(label, float(d[2])) for label, d in zip(labels, days, strict=True)])
        )
        complete = [d for d in days if d[3]]
        if complete:
            metadata["last_complete_day"] = MetadataValue.text(complete[-1][0])
            metadata["last_complete_dau"] = MetadataValue.int(int(complete[-1][1]))
            metadata["last_complete_gmv_krw"] = MetadataValue.float(float(complete[-1][2]))
    return metadata
