"""What the Spark cluster of orchestration/cluster.py is made of: its settings
(DONGNE_CLUSTER_* and the Thrift port, as a ClusterConfig), the environment every JVM of it
starts with, the Thrift server's Spark settings, and each part's command line. Nothing here
starts or stops a process: `cluster` does.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from orchestration.settings import Settings

WORKERS = 2
# The parts with a fixed port: the port's field in ClusterConfig and its setting.
PORTS = {
    "master": ("master_port", "DONGNE_CLUSTER_MASTER_PORT"),
    "thrift-server": ("thrift_port", "DONGNE_SPARK_THRIFT_PORT"),
}


class ClusterError(RuntimeError):
    """The cluster cannot start or be reached: the message says why, in one line."""


@dataclass(frozen=True)
class ClusterConfig:
    """Where the cluster's parts listen and how big they are (DONGNE_CLUSTER_* settings)."""

    home: Path
    master_port: int
    ui_port: int
    thrift_port: int
    worker_cores: int
    worker_memory: str
    executor_memory: str
    driver_memory: str

    @property
    def master_url(self) -> str:
        return f"spark://127.0.0.1:{self.master_port}"

    @property
    def warehouse_dir(self) -> Path:
        return self.home / "warehouse"

    @property
    def logs_dir(self) -> Path:
        return self.home / "logs"

    @property
    def run_dir(self) -> Path:
        return self.home / "run"


def cluster_config(settings: Settings, environ: dict[str, str] | None = None) -> ClusterConfig:
    env = os.environ if environ is None else environ
    return ClusterConfig(
        home=settings.cluster_dir,
        master_port=int(env.get("DONGNE_CLUSTER_MASTER_PORT", "7077")),
        ui_port=int(env.get("DONGNE_CLUSTER_UI_PORT", "8090")),
        thrift_port=int(env.get("DONGNE_SPARK_THRIFT_PORT", "10000")),
        worker_cores=int(env.get("DONGNE_CLUSTER_WORKER_CORES", "1")),
        worker_memory=env.get("DONGNE_CLUSTER_WORKER_MEMORY", "2g"),
        executor_memory=env.get("DONGNE_CLUSTER_EXECUTOR_MEMORY", "1536m"),
        driver_memory=env.get("DONGNE_CLUSTER_DRIVER_MEMORY", "2g"),
    )


def spark_home() -> Path:
    """pyspark's own folder: its wheel ships Spark's jars and bin/spark-class."""
    try:
        import pyspark
    except ImportError as missing:
        raise ClusterError(
            "the cluster needs pyspark, which this environment lacks: run "
            "`make spark-install` (or DONGNE_ENGINE=spark-cluster make run)"
        ) from missing
    return Path(pyspark.__file__).parent


# A person key pad as SQL carries it: 64 bytes in hex (orchestration/settings.hmac_pads).
PAD_PATTERN = "[0-9a-fA-F]{128}"

# Spark's logging for the cluster's JVMs: warnings, plus the master's and workers' own
# news (registrations, executors) and the Thrift server's statements (pads redacted).
LOG4J2 = """\
rootLogger.level = warn
rootLogger.appenderRef.stdout.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n%ex
logger.deploy.name = org.apache.spark.deploy
logger.deploy.level = info
logger.thriftserver.name = org.apache.spark.sql.hive.thriftserver
logger.thriftserver.level = info
"""

# dbt runs several statements at once (the profile's threads), each a job of the Thrift
# server. Spark's default FIFO order gives the first job every core until it ends, so a
# one-second test waited minutes behind a large model's job (172 s at M). The server's
# jobs share the cores instead: FAIR between jobs, in the pool every session uses.
FAIR_POOLS = """\
<?xml version="1.0"?>
<allocations>
  <pool name="default">
    <schedulingMode>FAIR</schedulingMode>
    <weight>1</weight>
    <minShare>0</minShare>
  </pool>
</allocations>
"""


def java_env(config: ClusterConfig) -> dict[str, str]:
    """The environment of every JVM of the cluster: loopback, quiet logs, small daemons."""
    home = spark_home()
    tmp = config.home / "tmp"
    return {
        **os.environ,
        "SPARK_HOME": str(home),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_LOCAL_HOSTNAME": "127.0.0.1",
        "SPARK_DAEMON_MEMORY": os.environ.get("DONGNE_CLUSTER_DAEMON_MEMORY", "512m"),
        "SPARK_LOG_DIR": str(config.logs_dir),
        "SPARK_CONF_DIR": str(config.home / "conf"),
        "SPARK_PID_DIR": str(config.run_dir),
        "SPARK_WORKER_DIR": str(config.home / "work"),
        "SPARK_LOCAL_DIRS": str(tmp),
        "SPARK_DAEMON_JAVA_OPTS": f"-Djava.io.tmpdir={tmp}",
        "PYSPARK_PYTHON": sys.executable,
    }


def thrift_conf(config: ClusterConfig) -> dict[str, str]:
    """The Thrift server's Spark settings: the platform's SQL settings (as the local
    session's), the catalog and warehouse under the cluster's folder, executors sized for
    the workers."""
    from orchestration.spark_dbt import SQL_SETTINGS, extra_settings

    home = config.home
    return {
        **SQL_SETTINGS,
        "spark.app.name": "dongne-thrift-server",
        "spark.sql.warehouse.dir": str(config.warehouse_dir),
        "spark.hadoop.javax.jdo.option.ConnectionURL": (
            f"jdbc:derby:;databaseName={home / 'metastore_db'};create=true"
        ),
        "spark.driver.memory": config.driver_memory,
        "spark.driver.extraJavaOptions": (
            f"-Dderby.system.home={home} -Djava.io.tmpdir={home / 'tmp'}"
        ),
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.executor.memory": config.executor_memory,
        "spark.executor.cores": str(config.worker_cores),
        "spark.cores.max": str(config.worker_cores * WORKERS),
        "spark.ui.enabled": "false",
        "spark.scheduler.mode": "FAIR",
        "spark.scheduler.allocation.file": str(home / "conf" / "fairscheduler.xml"),
        # The Thrift server logs each statement after substituting session settings: the
        # person keys' pads (128 hex digits) are redacted from what it logs.
        "spark.sql.redaction.string.regex": PAD_PATTERN,
        "spark.hadoop.hive.server2.thrift.port": str(config.thrift_port),
        "spark.hadoop.hive.server2.thrift.bind.host": "127.0.0.1",
        **extra_settings(),
    }


@dataclass(frozen=True)
class Part:
    """One JVM of the cluster: its name (pid and log file), its main class, its command."""

    name: str
    main_class: str
    args: tuple[str, ...]


def parts(config: ClusterConfig) -> list[Part]:
    master = Part(
        "master",
        "org.apache.spark.deploy.master.Master",
        (
            "--host",
            "127.0.0.1",
            "--port",
            str(config.master_port),
            "--webui-port",
            str(config.ui_port),
        ),
    )
    workers = [
        Part(
            f"worker-{n}",
            "org.apache.spark.deploy.worker.Worker",
            (
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--webui-port",
                "0",
                "--cores",
                str(config.worker_cores),
                "--memory",
                config.worker_memory,
                "--work-dir",
                str(config.home / "work" / f"worker-{n}"),
                config.master_url,
            ),
        )
        for n in range(1, WORKERS + 1)
    ]
    submit = [
        "--master",
        config.master_url,
        "--class",
        "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2",
    ]
    for key, value in thrift_conf(config).items():
        submit += ["--conf", f"{key}={value}"]
    thrift = Part(
        "thrift-server",
        "org.apache.spark.deploy.SparkSubmit",
        (*submit, "spark-internal"),
    )
    return [master, *workers, thrift]
