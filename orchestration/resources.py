"""Resources: where the platform's files are, and the dbt CLI.

Every writer of the warehouse (ingestion swaps lake folders that dbt reads, dbt writes
warehouse.duckdb, publish reads it whole) runs in the `warehouse` concurrency pool,
whose limit is 1 (see dagster.yaml): one writer at a time, whatever launched it.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
from dagster import ConfigurableResource, EnvVar
from dagster_dbt import DbtCliResource

from orchestration import landing
from orchestration.settings import (
    DBT_PROJECT_DIR,
    DEFAULT_DUCKDB_MEMORY_LIMIT,
    DEV_PII_SALT,
    Settings,
    venv_tool,
)

SALT_ENV = "DONGNE_PII_SALT"

WAREHOUSE_POOL = "warehouse"


class PlatformResource(ConfigurableResource):
    """The settings a run works with: the raw and data directories, DuckDB's limits for
    landing, the engine dbt builds on and the pseudonym salt. Built from the `Settings`
    the definitions are given (`from_settings`), never read again from the environment."""

    raw_dir: str
    data_dir: str
    duckdb_memory_limit: str = DEFAULT_DUCKDB_MEMORY_LIMIT
    duckdb_threads: int = 2
    engine: str = "duckdb"
    partitions_start: str | None = None
    lake_uri: str | None = None
    # A secret: when it came from DONGNE_PII_SALT the resource holds the variable, which
    # the Dagster UI shows by name, never by value.
    pii_salt: str = DEV_PII_SALT
    pii_salt_is_default: bool = True

    @classmethod
    def from_settings(cls, settings: Settings) -> PlatformResource:
        from_env = settings.pii_salt == os.environ.get(SALT_ENV)
        return cls(
            raw_dir=str(settings.raw_dir),
            data_dir=str(settings.data_dir),
            duckdb_memory_limit=settings.duckdb_memory_limit,
            duckdb_threads=settings.duckdb_threads,
            engine=settings.engine,
            partitions_start=settings.partitions_start,
            lake_uri=settings.lake_uri,
            pii_salt=EnvVar(SALT_ENV) if from_env else settings.pii_salt,
            pii_salt_is_default=settings.pii_salt_is_default,
        )

    def settings(self) -> Settings:
        salt = self.pii_salt
        if isinstance(salt, EnvVar):  # not resolved yet: outside a run or a sensor tick
            salt = salt.get_value() or ""
        return Settings(
            raw_dir=Path(self.raw_dir),
            data_dir=Path(self.data_dir),
            pii_salt=salt,
            pii_salt_is_default=self.pii_salt_is_default,
            duckdb_memory_limit=self.duckdb_memory_limit,
            duckdb_threads=self.duckdb_threads,
            engine=self.engine,
            partitions_start=self.partitions_start,
            lake_uri=self.lake_uri,
        )

    def landing_connection(self) -> duckdb.DuckDBPyConnection:
        settings = self.settings()
        return landing.connect(self.duckdb_memory_limit, self.duckdb_threads, settings.tmp_dir)


# The dbt executable of each engine: dbt itself on DuckDB; on Spark, dbt run inside a
# process that first starts the SparkSession (orchestration/spark_dbt.py).
DBT_EXECUTABLES = {"duckdb": "dbt", "spark": "dongne-dbt-spark", "spark-cluster": "dbt"}


def dbt_resource(engine: str) -> DbtCliResource:
    """dbt for `engine`: the project, and the executable a Spark build runs (on DuckDB dbt
    runs in the build's process: dbt_invocation.py)."""
    return DbtCliResource(
        project_dir=str(DBT_PROJECT_DIR),
        profiles_dir=str(DBT_PROJECT_DIR),
        dbt_executable=venv_tool(DBT_EXECUTABLES[engine]),
    )
