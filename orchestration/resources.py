"""Resources: where the platform's files are, and the dbt CLI.

Every writer of the warehouse (ingestion swaps lake folders that dbt reads, dbt writes
warehouse.duckdb, publish reads it whole) runs in the `warehouse` concurrency pool,
whose limit is 1 (see dagster.yaml): one writer at a time, whatever launched it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
from dagster import ConfigurableResource
from dagster_dbt import DbtCliResource

from orchestration import landing
from orchestration.settings import DBT_PROJECT_DIR, Settings, load_settings

WAREHOUSE_POOL = "warehouse"


class PlatformResource(ConfigurableResource):
    """The raw directory, the data directory and DuckDB's limits for landing."""

    raw_dir: str
    data_dir: str
    duckdb_memory_limit: str = "3GB"
    duckdb_threads: int = 2

    @classmethod
    def from_settings(cls, settings: Settings) -> PlatformResource:
        return cls(
            raw_dir=str(settings.raw_dir),
            data_dir=str(settings.data_dir),
            duckdb_memory_limit=settings.duckdb_memory_limit,
            duckdb_threads=settings.duckdb_threads,
        )

    def settings(self) -> Settings:
        base = load_settings()
        return Settings(
            raw_dir=Path(self.raw_dir),
            data_dir=Path(self.data_dir),
            pii_salt=base.pii_salt,
            pii_salt_is_default=base.pii_salt_is_default,
            duckdb_memory_limit=self.duckdb_memory_limit,
            duckdb_threads=self.duckdb_threads,
            engine=base.engine,
        )

    def landing_connection(self) -> duckdb.DuckDBPyConnection:
        settings = self.settings()
        return landing.connect(self.duckdb_memory_limit, self.duckdb_threads, settings.tmp_dir)


def venv_executable(name: str) -> str:
    """A console script installed beside this Python (the project's .venv), else PATH's."""
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else name


# The dbt executable of each engine: dbt itself on DuckDB; on Spark, dbt run inside a
# process that first starts the SparkSession (orchestration/spark_dbt.py).
DBT_EXECUTABLES = {"duckdb": "dbt", "spark": "dongne-dbt-spark"}


def dbt_resource(engine: str | None = None) -> DbtCliResource:
    """dbt for `engine` (default: DONGNE_ENGINE's): the project, and the executable a
    Spark build runs (on DuckDB dbt runs in the build's process: dbt_invocation.py)."""
    return DbtCliResource(
        project_dir=str(DBT_PROJECT_DIR),
        profiles_dir=str(DBT_PROJECT_DIR),
        dbt_executable=venv_executable(DBT_EXECUTABLES[engine or load_settings().engine]),
    )
