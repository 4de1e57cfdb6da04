"""What a data engineer sees on an asset's page: row counts, column schemas, a preview of
the latest rows, headline numbers over time and a link to the model's dbt docs page."""

import os
from typing import Any

import duckdb
from dagster import MetadataValue, TableColumn, TableSchema

PREVIEW_ROWS = 5
DOCS_URL_DEFAULT = "http://127.0.0.1:8080"


def docs_url(unique_id: str) -> str:
    """The model's page in the dbt docs site (`make docs`; DONGNE_DOCS_URL when hosted)."""
    base = os.environ.get("DONGNE_DOCS_URL", DOCS_URL_DEFAULT).rstrip("/")
    kind = unique_id.split(".")[0]
    return f"{base}/#!/{kind}/{unique_id}"


def table_metadata(
    con: duckdb.DuckDBPyConnection,
    schema: str,
    name: str,
    descriptions: dict[str, str] | None = None,
    count_views: bool = False,
) -> dict[str, Any]:
    """Column schema of one relation, with each column's description (from dbt's yml, else
    the database comment), and its row count when it is a table (counting a view would
    run its query again, unless it only reads stored files: `count_views`, for Spark's
    tables seen as views). Empty when the relation does not exist."""
    columns = con.execute(
        "select column_name, data_type, comment from duckdb_columns() "
        "where schema_name = ? and table_name = ? order by column_index",
        [schema, name],
    ).fetchall()
    if not columns:
        return {}
    described = descriptions or {}
    metadata: dict[str, Any] = {
        "dagster/column_schema": MetadataValue.table_schema(
            TableSchema(
                columns=[
                    TableColumn(
                        name=column,
                        type=str(kind),
                        description=described.get(column) or comment or None,
                    )
                    for column, kind, comment in columns
                ]
            )
        ),
    }
    is_table = con.execute(
        "select count(*) from duckdb_tables() where schema_name = ? and table_name = ?",
        [schema, name],
    ).fetchall()[0][0]
    if is_table or count_views:
        rows = con.execute(f'select count(*) from "{schema}"."{name}"').fetchall()[0][0]
        metadata["dagster/row_count"] = MetadataValue.int(int(rows))
    return metadata


def markdown_preview(con: duckdb.DuckDBPyConnection, relation: str, order_by: str) -> str:
    """The latest rows of a table as a markdown table."""
    cursor = con.execute(
        f"select * from {relation} order by {order_by} desc nulls last limit {PREVIEW_ROWS}"
    )
    return markdown_table([column[0] for column in cursor.description], cursor.fetchall())


def markdown_table(names: list[str], rows: list[tuple[Any, ...]], width: int | None = 40) -> str:
    """Rows as a markdown table, each cell cut at `width` characters (None: whole)."""
    lines = ["| " + " | ".join(names) + " |", "|" + "---|" * len(names)]
    for row in rows:
        cells = ["" if value is None else str(value).replace("|", "\\|")[:width] for value in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def bar_chart(points: list[tuple[str, float]], width: int = 30) -> str:
    """A small horizontal bar chart in markdown (a code block of block characters)."""
    if not points:
        return "no data"
    top = max(value for _, value in points) or 1
    lines = []
    for label, value in points:
        bar = "█" * max(1, round(width * value / top)) if value else ""
        lines.append(f"{label}  {bar:<{width}}  {value:,.0f}")
    return "```\n" + "\n".join(lines) + "\n```"
