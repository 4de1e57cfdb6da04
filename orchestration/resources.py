"""Resources: where the platform's files are, and the dbt CLI.

Every writer of the warehouse (ingestion swaps lake folders that dbt reads, dbt writes
warehouse.duckdb, publish reads it whole) runs in the `warehouse` concurrency pool,
whose limit is 1 (see dagster.yaml): one writer at a time, whatever launched it.
"""

from __future__ import annotations

import importlib.metadata
import os
import sys
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import duckdb
from dagster import ConfigurableResource
from dagster_dbt import DbtCliResource
from packaging import version

from orchestration import landing
from orchestration.dbt_cli import dbt_environment
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

    def export_dbt_environment(self) -> None:
        """dbt reads its paths from the environment: give it exactly the ones Dagster uses."""
        os.environ.update(dbt_environment(self.settings()))


def venv_executable(name: str) -> str:
    """A console script installed beside this Python (the project's .venv), else PATH's."""
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else name


class DongneDbtCliResource(DbtCliResource):
    """dagster-dbt's dbt CLI, without the in-process dbt adapter it opens on every call.

    That adapter serves dagster-dbt's own row-count and column-metadata fetching, which
    this platform does not use (observability.table_metadata reads the warehouse after
    dbt exits); loading the dbt profile and project for it cost about 4 s per call.

    It also knows dbt's version without asking: dagster-dbt runs `dbt --version` before
    every call (a second dbt start, and a look-up of the newest release on PyPI: 3 to 4 s),
    while the dbt it runs is the one installed beside this Python.
    """

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> Any:
        return None

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(importlib.metadata.version("dbt-core"))


# The dbt executable of each engine: dbt itself on DuckDB; on Spark, dbt run inside a
# process that first starts the SparkSession (orchestration/spark_dbt.py).
DBT_EXECUTABLES = {"duckdb": "dbt", "spark": "dongne-dbt-spark"}


def dbt_resource(engine: str | None = None) -> DbtCliResource:
    """The dbt CLI for `engine` (default: DONGNE_ENGINE's)."""
    return DongneDbtCliResource(
        project_dir=str(DBT_PROJECT_DIR),
        profiles_dir=str(DBT_PROJECT_DIR),
        dbt_executable=venv_executable(DBT_EXECUTABLES[engine or load_settings().engine]),
    )
