"""The same dbt project on Apache Spark: `DONGNE_ENGINE=spark` builds the session's
sample through the command line `make run` calls (landing, dbt on a local SparkSession,
publish from Spark's Parquet tables), and every published table equals the DuckDB
build's: same tables, columns and types, same rows, floats within 1e-9 relative.

One Spark build (one JVM, one dbt invocation) serves the module: a JVM start costs about
20 s, so Spark is called as few times as possible."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from dagster import ExecuteInProcessResult

from orchestration.settings import REPO_ROOT, hmac_pads
from orchestration.spark_warehouse import attach_spark_warehouse
from tests.conftest import TEST_SALT
from tests.published import differences


@pytest.fixture(scope="module")
def spark_build(sample_raw_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("spark") / "data"
    env = {key: value for key, value in os.environ.items() if not key.startswith("DONGNE_")}
    env.update(
        DONGNE_ENGINE="spark",
        DONGNE_RAW_DIR=str(sample_raw_dir),
        DONGNE_DATA_DIR=str(data),
        DONGNE_PII_SALT=TEST_SALT,
        DONGNE_DUCKDB_MEMORY_LIMIT="2GB",
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
    )
    ran = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "build"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
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
    Spark's catalog (a view stores its SQL) or a table. Parquet compresses its strings:
    the published tables, all of Spark's Parquet included, are asked by query."""
    secrets = [TEST_SALT.encode(), *(pad.hex().encode() for pad in hmac_pads(TEST_SALT))]
    scanned, leaks = 0, []
    for path in spark_build.rglob("*"):
        if path.is_file() and path.suffix not in {".parquet", ".duckdb"}:
            scanned += 1
            content = path.read_bytes()
            leaks += [f"{path}: {secret[:8]!r}" for secret in secrets if secret in content]
    assert scanned > 50 and leaks == []
    with duckdb.connect() as con:
        attach_spark_warehouse(con, spark_build / "spark" / "warehouse")
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
                assert found == 0, f"a secret is in Spark's {schema}.{table}.{column}"
