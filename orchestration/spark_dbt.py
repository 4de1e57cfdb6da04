"""dbt on Apache Spark: a local SparkSession with the platform's settings, then dbt.

`dongne-dbt-spark <dbt args>` is the dbt executable of the `spark` engine
(DONGNE_ENGINE=spark). dbt-spark's `session` method runs every statement on the
process's active SparkSession, so this entry point starts one first, configured for the
platform, and runs dbt in the same process:

- the catalog (a Derby metastore) and the tables (Parquet) live in
  `<DONGNE_DATA_DIR>/spark/`, so tables outlive the process as they do in a cluster's
  metastore; one dbt process at a time holds it (the `warehouse` pool serialises them);
- timestamps are naive (TIMESTAMP_NTZ) and the session time zone is UTC, as on DuckDB:
  the lake's timestamps are naive UTC, the marts' naive KST;
Nothing of ours is registered in the session, so a Thrift server (DONGNE_ENGINE=
spark-cluster) builds the same tables: the p-values are SQL (macros/statistics.sql), and
`keyed_hash` is Spark SQL over the HMAC pads, which the profile passes as session settings
from the environment (never in compiled SQL).
Commands that do not touch the warehouse (parse, ls, deps, ...) start no JVM.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

from orchestration.settings import Settings, load_settings

# The SQL settings of every Spark the platform builds on (this session, make cluster's
# Thrift server): timestamps are naive and the session time zone UTC, as on DuckDB; an
# incremental insert_overwrite replaces only the partitions its rows fall in.
SQL_SETTINGS = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.timestampType": "TIMESTAMP_NTZ",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    "spark.sql.sources.partitionOverwriteMode": "dynamic",
    # A laptop's data: a few shuffle partitions, not Spark's 200.
    "spark.sql.shuffle.partitions": os.environ.get("DONGNE_SPARK_SHUFFLE_PARTITIONS", "4"),
}

# dbt commands that open a connection (and so need the session).
CONNECTING = {"build", "run", "test", "seed", "snapshot", "retry", "compile", "show", "docs"}


def session_settings(settings: Settings) -> dict[str, str]:
    """The SparkSession's settings for a data directory (static ones included)."""
    home = settings.spark_dir
    tmp = home / "tmp"
    return {
        "spark.master": os.environ.get("DONGNE_SPARK_MASTER", "local[2]"),
        "spark.app.name": "dongne-dbt",
        "spark.driver.memory": os.environ.get("DONGNE_SPARK_DRIVER_MEMORY", "2g"),
        "spark.sql.warehouse.dir": str(settings.spark_warehouse_dir),
        "spark.hadoop.javax.jdo.option.ConnectionURL": (
            f"jdbc:derby:;databaseName={home / 'metastore_db'};create=true"
        ),
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={home} -Djava.io.tmpdir={tmp}",
        "spark.local.dir": str(tmp),
        **SQL_SETTINGS,
        # Everything on loopback: a local session opens no port to the network.
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        **extra_settings(),
    }


def extra_settings() -> dict[str, str]:
    """Any other Spark setting, for the session and the cluster's Thrift server alike:
    DONGNE_SPARK_CONF="key=value,key=value"."""
    items = os.environ.get("DONGNE_SPARK_CONF", "").split(",")
    return dict(item.split("=", 1) for item in items if "=" in item)


def start_session(settings: Settings) -> Any:
    """The process's SparkSession, with the platform's settings."""
    from pyspark.logger import PySparkLogger
    from pyspark.sql import SparkSession

    (settings.spark_dir / "tmp").mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    builder = SparkSession.builder.enableHiveSupport()
    for key, value in session_settings(settings).items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    # pyspark logs every failed statement with its Java stack trace; dbt reports the
    # error itself, in its own words and log.
    for name in ("SQLQueryContextLogger", "DataFrameQueryContextLogger"):
        PySparkLogger.getLogger(name).setLevel(logging.CRITICAL)
    return session


def main(argv: list[str] | None = None) -> int:
    """Run dbt with `argv` (as the `dbt` command would), on a local SparkSession."""
    from dbt.cli.main import dbtRunner

    args = list(sys.argv[1:] if argv is None else argv)
    command = next((arg for arg in args if not arg.startswith("-")), "")
    session = start_session(load_settings()) if command in CONNECTING else None
    try:
        result = dbtRunner().invoke(args)
    finally:
        if session is not None:
            session.stop()
    if result.success:
        return 0
    return 2 if result.exception is not None else 1


if __name__ == "__main__":
    sys.exit(main())
