"""The same dbt project on Apache Spark: `DONGNE_ENGINE=spark` builds the session's
sample through the command line `make run` calls (landing, dbt on a local SparkSession,
publish from Spark's Parquet tables), and every published table equals the DuckDB
build's: same tables, columns and types, same rows, floats within 1e-9 relative. dbt's
unit tests run on Spark too, and every data test ran in the build; the published tables
carry the models' descriptions, and neither the salt nor its HMAC pads reach a file.

One Spark build (one JVM, one dbt invocation) serves the module, and one more Spark
invocation runs the unit tests: a JVM start costs about 20 s, so Spark is called as few
times as possible."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import duckdb
import pytest
from dagster import ExecuteInProcessResult

from orchestration.resources import DBT_EXECUTABLES
from orchestration.settings import hmac_pads, venv_tool
from orchestration.spark_warehouse import attach_spark_warehouse
from tests.conftest import TEST_SALT, cli_build, settings_for
from tests.published import differences
from tests.test_dbt_unit_tests import unit_test_results

# `make test-spark` (CI runs it after `make test`): a few minutes of Spark, kept out of the
# developer's 10-minute loop.
pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def spark_build(sample_raw_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("spark") / "data"
    ran = cli_build(sample_raw_dir, data, DONGNE_ENGINE="spark")
    logs = sorted((data / "logs").glob("build-*.log"))
    detail = logs[-1].read_text()[-6000:] if logs else ran.stderr[-6000:]
    assert ran.returncode == 0, f"the Spark build failed:\n{ran.stdout[-3000:]}\n{detail}"
    return data


def test_the_spark_build_ran_on_spark(spark_build: Path) -> None:
    """The tables came from Spark: Parquet in Spark's warehouse, no DuckDB warehouse."""
    assert not (spark_build / "warehouse.duckdb").exists()
    marts = spark_build / "spark" / "warehouse" / "marts.db"
    assert any((marts / "fct_daily_active_users").glob("*.parquet"))
    assert any((spark_build / "spark" / "warehouse" / "ml.db").rglob("*.parquet"))


def test_every_data_test_of_the_project_ran_on_spark(spark_build: Path) -> None:
    """A build that returns 0 could still have run no test at all: every data test the
    project declares for Spark ran in the build's one dbt invocation, and passed (or
    warned, as the warning-level ones may)."""
    (attempt,) = sorted((spark_build / "dbt" / "runs").iterdir())
    manifest = json.loads((attempt / "manifest.json").read_text())
    declared = {
        uid
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] == "test" and node["config"].get("enabled", True)
    }
    results = json.loads((attempt / "run_results.json").read_text())["results"]
    ran = {r["unique_id"]: r["status"] for r in results if r["unique_id"] in declared}
    assert len(declared) > 100 and set(ran) == declared
    assert {status for status in ran.values()} <= {"pass", "warn"}


def test_every_published_table_equals_the_duckdb_build(
    spark_build: Path, sample_build: tuple[Path, ExecuteInProcessResult]
) -> None:
    duckdb_data, _ = sample_build
    assert differences(duckdb_data / "analytics.duckdb", spark_build / "analytics.duckdb") == []
    with duckdb.connect(str(spark_build / "analytics.duckdb"), read_only=True) as con:
        tables = con.execute(
            "select count(*) from duckdb_tables() where schema_name in ('marts', 'ml')"
        ).fetchone()[0]
        dau = con.execute("select sum(dau) from marts.fct_daily_active_users").fetchone()[0]
    assert tables >= 20 and dau > 0


def test_every_dbt_unit_test_passes_on_spark(
    spark_build: Path, sample_raw_dir: Path, tmp_path: Path
) -> None:
    """The unit tests too run on both engines: the same SQL logic on the same rows."""
    settings = replace(settings_for(sample_raw_dir, spark_build), engine="spark")
    spark_dbt = venv_tool(DBT_EXECUTABLES["spark"])
    unit_tests = unit_test_results(settings, spark_dbt, target=tmp_path / "target")
    assert len(unit_tests) == 20  # each one counted: none may go missing unnoticed
    assert {r["status"] for r in unit_tests} == {"pass"}


def test_published_tables_carry_the_models_descriptions_on_spark(spark_build: Path) -> None:
    """Spark keeps no descriptions in Parquet: publish takes them from dbt's manifest."""
    with duckdb.connect(str(spark_build / "analytics.duckdb"), read_only=True) as con:
        undescribed = con.execute("""
            select table_name || '.' || column_name from duckdb_columns()
            where schema_name in ('marts', 'ml') and table_name not like 'publish_%'
                and (comment is null or comment = '')
        """).fetchall()
        table_comment = con.execute(
            "select comment from duckdb_tables() where table_name = 'fct_daily_active_users'"
        ).fetchone()[0]
    assert undescribed == []
    assert table_comment


def test_neither_the_salt_nor_its_hmac_pads_reach_a_file_the_spark_build_writes(
    spark_build: Path,
) -> None:
    """On Spark the keys are computed from the salt's HMAC pads, passed as session
    settings: a pad is as good as the salt, so neither may reach a log, the compiled SQL,
    Spark's catalog (a view stores its SQL) or a table."""
    assert salt_leaks(spark_build, spark_build / "spark" / "warehouse") == []


def salt_leaks(data: Path, warehouse: Path) -> list[str]:
    """Where the test salt or one of its HMAC pads appears: in any file under `data` but
    Parquet and DuckDB files (at least 50 of them), or in a text column of a Spark
    warehouse's tables, asked by query (Parquet compresses its strings)."""
    secrets = [TEST_SALT.encode(), *(pad.hex().encode() for pad in hmac_pads(TEST_SALT))]
    scanned, leaks = 0, []
    for path in data.rglob("*"):
        if path.is_file() and path.suffix not in {".parquet", ".duckdb"}:
            scanned += 1
            content = path.read_bytes()
            leaks += [f"{path}: {secret[:8]!r}" for secret in secrets if secret in content]
    assert scanned > 50
    with duckdb.connect() as con:
        attach_spark_warehouse(con, warehouse)
        columns = con.execute(
            "select schema_name, table_name, column_name from duckdb_columns() "
            "where database_name = 'warehouse' and data_type = 'VARCHAR'"
        ).fetchall()
        assert len(columns) > 20
        for schema, table, column in columns:
            for secret in secrets:
                found = con.execute(
                    f'select count(*) from warehouse."{schema}"."{table}" '
                    f'where contains("{column}", ?)',
                    [secret.decode()],
                ).fetchone()[0]
                if found:
                    leaks.append(f"Spark's {schema}.{table}.{column}")
    return leaks
