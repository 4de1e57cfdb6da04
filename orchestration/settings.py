"""The platform's settings from the environment, typed, with their defaults: where the
raw data, the lake (and the lake's URI for a Spark cluster), the warehouse and the
published copy are, the engine, the salt, the DuckDB limits, the partitions' start, the
sensor's pace and the dashboards' address.

Paths are resolved once so that Dagster, dbt (through the environment it is given)
and the command line all agree on where the raw data, the lake and the warehouse are.
A setting that serves one concern only is read beside it, with its default there: the
cluster's (DONGNE_CLUSTER_*, DONGNE_SPARK_THRIFT_PORT, cluster_parts.py), the local Spark
session's (DONGNE_SPARK_*, spark_dbt.py), the alerts' (DONGNE_SLACK_WEBHOOK_URL,
DONGNE_UI_URL, notify.py), the docs' address (observability.py), the clock (DONGNE_TODAY,
clock.py), the freshness check (assets/ingest.py) and the test suite's failpoints
(failpoints.py). dbt's profile alone reads where the cluster's Thrift server is
and how many statements it sends at once (DONGNE_SPARK_THRIFT_HOST, DONGNE_SPARK_THRIFT_PORT,
DONGNE_SPARK_THREADS: dbt_project/profiles.yml).
"""

from __future__ import annotations

import hashlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"

DEV_PII_SALT = "dongne-dev-salt-not-for-production"
# DuckDB's memory_limit when DONGNE_DUCKDB_MEMORY_LIMIT is not set: its buffers, not the
# whole process (docs/speed.md gives a build's peak with every process counted).
DEFAULT_DUCKDB_MEMORY_LIMIT = "3GB"
# The engines dbt builds the warehouse on (DONGNE_ENGINE): one dbt target each. `spark` is
# a SparkSession inside the dbt process; `spark-cluster` a running Spark cluster, reached
# through its Thrift server (make cluster starts one on this machine).
ENGINES = ("duckdb", "spark", "spark-cluster")
DBT_TARGETS = {"duckdb": "local", "spark": "spark", "spark-cluster": "spark_cluster"}
HMAC_BLOCK = 64  # SHA-256's block size, in bytes


class SettingsError(RuntimeError):
    """A setting a user can fix: the message says what is wrong and what to do."""


@dataclass(frozen=True)
class Settings:
    raw_dir: Path
    data_dir: Path
    pii_salt: str
    pii_salt_is_default: bool
    duckdb_memory_limit: str
    duckdb_threads: int
    engine: str = "duckdb"
    # The partition calendar's first day when it should start before the first delivery.
    partitions_start: str | None = None
    # The lake as a Spark cluster reads it (DONGNE_LAKE_URI), when not at the lake's local
    # path: object storage (s3a://bucket/dongne/lake) that the landing's folder is synced to.
    lake_uri: str | None = None

    @property
    def lake_dir(self) -> Path:
        return self.data_dir / "lake"

    @property
    def lake_location(self) -> str:
        """Where Spark declares the lake's tables: DONGNE_LAKE_URI, or the lake's path."""
        return self.lake_uri or str(self.lake_dir)

    @property
    def warehouse_path(self) -> Path:
        """The live warehouse: dbt's one writer. Holds raw personal data: restricted."""
        return self.data_dir / "warehouse.duckdb"

    @property
    def analytics_path(self) -> Path:
        """The published, read-only copy analysts and data scientists open."""
        return self.data_dir / "analytics.duckdb"

    @property
    def is_spark(self) -> bool:
        """dbt builds on Spark: a local session or a cluster."""
        return self.engine in ("spark", "spark-cluster")

    @property
    def spark_dir(self) -> Path:
        """Spark's warehouse (Parquet tables) and catalog, when DONGNE_ENGINE=spark."""
        return self.data_dir / "spark"

    @property
    def cluster_dir(self) -> Path:
        """The standalone cluster of make cluster: its logs, pids, catalog and warehouse."""
        return self.data_dir / "cluster"

    @property
    def spark_warehouse_dir(self) -> Path:
        """Spark's tables: one folder of Parquet files each (`<schema>.db/<table>/`). The
        session and the cluster each keep their own, as each has its own catalog."""
        home = self.cluster_dir if self.engine == "spark-cluster" else self.spark_dir
        return home / "warehouse"

    @property
    def warehouse_location(self) -> Path:
        """What dbt builds on this engine: warehouse.duckdb, or Spark's folder of tables."""
        return self.spark_warehouse_dir if self.is_spark else self.warehouse_path

    @property
    def tmp_dir(self) -> Path:
        return self.data_dir / "tmp"

    @property
    def dagster_home(self) -> Path:
        return self.data_dir / "dagster_home"

    def dbt_env(self) -> dict[str, str]:
        """The environment dbt runs with: the same paths Dagster uses."""
        return {
            "DONGNE_DATA_DIR": str(self.data_dir),
            "DONGNE_LAKE_DIR": str(self.lake_dir),
            "DONGNE_LAKE_URI": self.lake_location,
            "DONGNE_WAREHOUSE_PATH": str(self.warehouse_path),
            "DONGNE_ANALYTICS_PATH": str(self.analytics_path),
            "DONGNE_DUCKDB_MEMORY_LIMIT": self.duckdb_memory_limit,
            "DONGNE_DUCKDB_THREADS": str(self.duckdb_threads),
            "DONGNE_TMP_DIR": str(self.tmp_dir),
            "DONGNE_PII_SALT": self.pii_salt,
            "DONGNE_ENGINE": self.engine,
            "DONGNE_DBT_TARGET": DBT_TARGETS[self.engine],
            # On Spark the keyed_hash macro reads the salt's HMAC pads as session settings,
            # through the profile; dbt keeps DBT_ENV_SECRET_* values out of logs and files.
            **{
                f"DBT_ENV_SECRET_DONGNE_HMAC_{name}": pad.hex()
                for name, pad in zip(("INNER", "OUTER"), hmac_pads(self.pii_salt), strict=True)
            },
        }


def hmac_pads(salt: str) -> tuple[bytes, bytes]:
    """HMAC-SHA256's inner and outer padded keys for `salt` (RFC 2104): a key longer than
    the 64-byte block is hashed first, a shorter one padded with zeros."""
    key = salt.encode()
    if len(key) > HMAC_BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(HMAC_BLOCK, b"\0")
    return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Read the DONGNE_* variables; relative paths are taken from the repository root."""
    env = os.environ if environ is None else environ
    raw_dir = _path(env.get("DONGNE_RAW_DIR"), REPO_ROOT / "seeds")
    data_dir = _path(env.get("DONGNE_DATA_DIR"), REPO_ROOT / "data")
    salt = env.get("DONGNE_PII_SALT", "")
    is_default = not salt
    if is_default:
        if env.get("DONGNE_ENV", "dev") == "production":
            raise SettingsError(
                "DONGNE_PII_SALT is not set and DONGNE_ENV=production: set a secret salt "
                "(e.g. `export DONGNE_PII_SALT=$(openssl rand -hex 32)`) before building."
            )
        salt = DEV_PII_SALT
    engine = env.get("DONGNE_ENGINE", "duckdb").strip().lower() or "duckdb"
    if engine not in ENGINES:
        raise SettingsError(
            f"DONGNE_ENGINE={env.get('DONGNE_ENGINE')!r} is not an engine this platform builds "
            f"on: use one of {', '.join(ENGINES)} (default duckdb)."
        )
    return Settings(
        raw_dir=raw_dir,
        data_dir=data_dir,
        pii_salt=salt,
        pii_salt_is_default=is_default,
        duckdb_memory_limit=env.get("DONGNE_DUCKDB_MEMORY_LIMIT", DEFAULT_DUCKDB_MEMORY_LIMIT),
        duckdb_threads=int(env.get("DONGNE_DUCKDB_THREADS", "2")),
        engine=engine,
        partitions_start=env.get("DONGNE_PARTITIONS_START") or None,
        lake_uri=env.get("DONGNE_LAKE_URI") or None,
    )


def sensor_interval_seconds(environ: dict[str, str] | None = None) -> int:
    """The arrival sensor's minimum interval (DONGNE_SENSOR_SECONDS, default 1): Dagster's
    daemon looks at its sensors every 5 s, so by default the sensor lists the raw directory
    (file names, sizes and times: milliseconds) every time the daemon looks. A
    code-location setting, read when the sensors are defined."""
    env = os.environ if environ is None else environ
    return int(env.get("DONGNE_SENSOR_SECONDS", "1"))


def batch_idle_seconds(environ: dict[str, str] | None = None) -> float:
    """How long arrivals must pause before the arrival sensor starts the batch run that
    rebuilds every table of the deliveries the near-real-time path refreshed
    (DONGNE_BATCH_IDLE_SECONDS, default 60)."""
    env = os.environ if environ is None else environ
    return float(env.get("DONGNE_BATCH_IDLE_SECONDS", "60"))


def dashboards_url(environ: dict[str, str] | None = None) -> str:
    """Where `make bi` serves the dashboards (DONGNE_BI_URL, default Superset's usual
    http://127.0.0.1:8088): the published database's asset links to them."""
    env = os.environ if environ is None else environ
    return env.get("DONGNE_BI_URL", "http://127.0.0.1:8088").rstrip("/")


def default_salt_warning(settings: Settings) -> str | None:
    """What a build says when it keys person ids with the development salt (else None)."""
    if not settings.pii_salt_is_default:
        return None
    return (
        "warning: DONGNE_PII_SALT is not set; using the development salt (pseudonyms built "
        "with it are not secret: set DONGNE_PII_SALT outside development)."
    )


# The project's virtualenv: its console scripts (dbt, dagster-daemon, mf, ...) sit beside
# this Python.
VENV_BIN = Path(sys.executable).parent


def venv_tool(name: str) -> str:
    """A console script installed beside this Python (the project's .venv), else PATH's."""
    candidate = VENV_BIN / name
    return str(candidate) if candidate.exists() else name


def _path(value: str | None, default: Path) -> Path:
    if not value:
        return default
    path = Path(value).expanduser()
    return path if path.is_absolute() else (REPO_ROOT / path).resolve()
