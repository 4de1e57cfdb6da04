"""The dashboards as code (bi/bundle/, Superset's import format) hold together: every chart
a dashboard lays out exists, every chart reads a dataset of the bundle and only its columns
and metrics, every dataset is a published table with exactly its columns, and the dbt
exposures name the dashboards and the tables they read. A renamed mart column or a
chart pointing at nothing fails here, before anyone opens Superset."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from dagster import ExecuteInProcessResult

from orchestration.assets.publish import DASHBOARDS
from orchestration.settings import DBT_PROJECT_DIR, REPO_ROOT
from tests.conftest import query

BUNDLE = REPO_ROOT / "bi" / "bundle"


def load(folder: str) -> dict[str, dict[str, Any]]:
    return {
        p.stem: yaml.safe_load(p.read_text()) for p in sorted((BUNDLE / folder).rglob("*.yaml"))
    }


DATABASES, DATASETS = load("databases"), load("datasets")
CHARTS, BOARDS = load("charts"), load("dashboards")


def columns_used(params: dict[str, Any]) -> set[str]:
    """The dataset columns a chart's form data names (axes, groupings, table columns)."""
    used = set(params.get("all_columns", []))
    for key in ("x_axis", "groupby"):
        value = params.get(key) or []
        used |= {value} if isinstance(value, str) else set(value)
    return used


def metrics_used(params: dict[str, Any]) -> set[Any]:
    """The metrics a chart names: only the dataset's saved ones, by name (an ad-hoc metric,
    a dict with SQL of its own, is a figure defined outside dbt and the dataset)."""
    named = [*params.get("metrics", []), params.get("metric")]
    return {m if isinstance(m, str) else repr(m) for m in named if m is not None}


def test_every_dashboard_chart_and_dataset_is_linked() -> None:
    assert sorted(board["slug"] for board in BOARDS.values()) == sorted(DASHBOARDS)
    (database,) = DATABASES.values()
    chart_ids = {chart["uuid"] for chart in CHARTS.values()}
    laid_out = set()
    for board in BOARDS.values():
        for node in board["position"].values():
            if isinstance(node, dict) and node["type"] == "CHART":
                assert node["meta"]["uuid"] in chart_ids, (board["slug"], node["id"])
                laid_out.add(node["meta"]["uuid"])
    assert laid_out == chart_ids  # no chart left out of every dashboard
    datasets = {d["uuid"]: d for d in DATASETS.values()}
    for name, chart in CHARTS.items():
        dataset = datasets[chart["dataset_uuid"]]
        assert dataset["database_uuid"] == database["uuid"]
        columns = {c["column_name"] for c in dataset["columns"]}
        metrics = {m["metric_name"] for m in dataset.get("metrics", [])}
        assert columns_used(chart["params"]) <= columns, name
        assert metrics_used(chart["params"]) <= metrics, name


def test_the_connection_is_the_published_database_read_only() -> None:
    """Read-only, and no way out of it from SQL: DuckDB's file, network and extension
    access off, its settings locked (tests/test_bi.py tries read_text, COPY and ATTACH)."""
    (database,) = DATABASES.values()
    assert database["sqlalchemy_uri"] == "duckdb:///${DONGNE_ANALYTICS_PATH}"
    connect_args = database["extra"]["engine_params"]["connect_args"]
    assert connect_args["read_only"] is True
    assert connect_args["config"] == {
        "enable_external_access": False,
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
        "lock_configuration": True,
        "memory_limit": "1GB",
        "threads": 2,
    }
    assert database["allow_dml"] is False


def test_every_dataset_is_a_published_table_with_exactly_its_columns(
    sample_build: tuple[Path, ExecuteInProcessResult],
) -> None:
    published = sample_build[0] / "analytics.duckdb"
    for dataset in DATASETS.values():
        table = f"{dataset['schema']}.{dataset['table_name']}"
        actual = query(
            published,
            "select column_name, data_type from duckdb_columns() "
            f"where schema_name = '{dataset['schema']}' and table_name = '{dataset['table_name']}' "
            "order by column_index",
        )
        declared = [(c["column_name"], c["type"]) for c in dataset["columns"]]
        assert declared == actual, table


def test_the_exposures_name_each_dashboard_and_every_table_it_reads() -> None:
    exposures = yaml.safe_load((DBT_PROJECT_DIR / "models" / "exposures.yml").read_text())
    boards = [e for e in exposures["exposures"] if e["type"] == "dashboard"]
    slugs = {e["url"].rstrip("/").rsplit("/", 1)[1] for e in boards}
    assert slugs == set(DASHBOARDS)
    read = {ref[len("ref('") : -2] for e in boards for ref in e["depends_on"]}
    # publish_tables (each table's freshness, every dashboard's "Data as of") is written by
    # the publish, not by a dbt model: no exposure can name it.
    assert {d["table_name"] for d in DATASETS.values()} - {"publish_tables"} == read


def test_every_dashboard_says_how_fresh_each_table_it_reads_is() -> None:
    datasets = {d["uuid"]: d["table_name"] for d in DATASETS.values()}
    charts = {c["uuid"]: c for c in CHARTS.values()}
    for board in BOARDS.values():
        laid_out = [
            charts[n["meta"]["uuid"]]
            for n in board["position"].values()
            if isinstance(n, dict) and n["type"] == "CHART"
        ]
        (as_of,) = [c for c in laid_out if datasets[c["dataset_uuid"]] == "publish_tables"]
        (shown,) = as_of["params"]["adhoc_filters"]
        read = {f"marts.{datasets[c['dataset_uuid']]}" for c in laid_out if c is not as_of}
        assert (shown["subject"], shown["operator"]) == ("table_name", "IN")
        assert set(shown["comparator"]) == read, board["slug"]


@pytest.mark.parametrize("slug", DASHBOARDS)
def test_each_dashboard_says_what_it_shows_and_where_the_figures_come_from(slug: str) -> None:
    (board,) = [b for b in BOARDS.values() if b["slug"] == slug]
    markdown = [
        n for n in board["position"].values() if isinstance(n, dict) and n["type"] == "MARKDOWN"
    ]
    assert markdown and "marts." in markdown[0]["meta"]["code"]


def test_make_bi_without_a_published_database_says_to_build_first(tmp_path: Path) -> None:
    launched = subprocess.run(
        [sys.executable, str(REPO_ROOT / "bi" / "launch.py"), "--no-serve"],
        env={**os.environ, "DONGNE_DATA_DIR": str(tmp_path / "data")},
        capture_output=True,
        text=True,
        check=False,
    )
    assert launched.returncode == 2
    assert launched.stderr.strip() == (
        f"error: no published database at {tmp_path / 'data' / 'analytics.duckdb'}: "
        "run `make run` first."
    )
    assert not (tmp_path / "data").exists()  # nothing created for a database that is not there
