"""A standalone Spark cluster on this machine: `make cluster` starts it, `make cluster-stop`
stops it, `DONGNE_ENGINE=spark-cluster make run` builds on it through its Thrift server.

Its parts are separate JVMs, as on a cluster of machines, run small:

- a master (`org.apache.spark.deploy.master.Master`), which hands out the workers' cores;
- two workers (`...deploy.worker.Worker`), each with its cores and memory, which start
  the executors that run the queries;
- the Thrift server (`HiveThriftServer2`), submitted to the master: its driver plans the
  SQL that dbt sends over the HiveServer2 protocol, its executors run on the workers;
- the catalog (a Derby metastore, embedded in the Thrift server's driver) and the
  warehouse (Parquet tables), under the data directory.

Everything lives in `<DONGNE_DATA_DIR>/cluster/`: `logs/` (one log per JVM), `run/` (pid
files), `work/` (the workers' scratch), `metastore_db/` and `warehouse/`. Every port is
on 127.0.0.1: the master on DONGNE_CLUSTER_MASTER_PORT (7077), its web page on
DONGNE_CLUSTER_UI_PORT (8090), the Thrift server on DONGNE_SPARK_THRIFT_PORT (10000).

Starting is idempotent: a part whose pid file names a live JVM of that part is left alone,
and `start` waits until the Thrift server answers a query, or stops with one line saying
why it cannot (and which log says more).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from orchestration.settings import Settings, load_settings

WORKERS = 2
# The parts with a fixed port: the port's field in ClusterConfig and its setting.
PORTS = {
    "master": ("master_port", "DONGNE_CLUSTER_MASTER_PORT"),
    "thrift-server": ("thrift_port", "DONGNE_SPARK_THRIFT_PORT"),
}
START_TIMEOUT_S = 180


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
        driver_memory=env.get("DONGNE_CLUSTER_DRIVER_MEMORY", "1g"),
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


def pid_of(config: ClusterConfig, part: Part) -> int | None:
    """The pid of `part` when its pid file names a live process running its main class for
    this cluster (its environment names this cluster's log folder)."""
    pid_file = config.run_dir / f"{part.name}.pid"
    try:
        pid = int(pid_file.read_text().strip())
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        environment = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, ValueError, IndexError):
        return None
    ours = f"SPARK_LOG_DIR={config.logs_dir}".encode()
    if state != "Z" and part.main_class.encode() in command and ours in environment:
        return pid
    return None


def port_answers(port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout):
            return True
    except OSError:
        return False


def start(settings: Settings) -> ClusterConfig:
    """Start what is not running, then wait for the Thrift server to answer a query."""
    config = cluster_config(settings)
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        raise ClusterError(
            "no `java` on PATH (nor JAVA_HOME): Spark needs Java 17 (make spark-install)"
        )
    spark_class = spark_home() / "bin" / "spark-class"
    for folder in (config.logs_dir, config.run_dir, config.home / "tmp", config.home / "work"):
        folder.mkdir(parents=True, exist_ok=True)
    (config.home / "conf").mkdir(exist_ok=True)
    (config.home / "conf" / "log4j2.properties").write_text(LOG4J2)
    env = java_env(config)
    # cluster-stop stops each JVM with SIGTERM (its shutdown hooks close the metastore and
    # the executors). A JVM keeps a signal ignored that was ignored when it started, and
    # children inherit "ignored": a parent that ignores SIGTERM (a test runner, a CI shell)
    # would leave the cluster deaf to it, so the JVMs start with the default disposition.
    for deaf in (signal.SIGTERM, signal.SIGINT):
        if signal.getsignal(deaf) == signal.SIG_IGN:
            signal.signal(deaf, signal.SIG_DFL)
    started: dict[str, subprocess.Popen] = {}
    for part in parts(config):
        if pid_of(config, part) is not None:
            continue
        port, variable = PORTS.get(part.name, (None, ""))
        if port is not None and port_answers(getattr(config, port)):
            raise ClusterError(
                f"port {getattr(config, port)} on 127.0.0.1 is taken by another program, so "
                f"the {part.name} cannot listen there: stop that program, or set {variable}"
            )
        log = config.logs_dir / f"{part.name}.log"
        with log.open("ab") as out:
            process = subprocess.Popen(
                [str(spark_class), part.main_class, *part.args],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                cwd=config.home,
                start_new_session=True,
            )
        (config.run_dir / f"{part.name}.pid").write_text(f"{process.pid}\n")
        started[part.name] = process
        if part.name == "master":
            wait_until(lambda: port_answers(config.master_port), config, part, "its port", process)
    thrift = parts(config)[-1]
    wait_until(lambda: thrift_answers(config), config, thrift, "a query", started.get(thrift.name))
    return config


def wait_until(
    ready: Callable[[], bool],
    config: ClusterConfig,
    part: Part,
    what: str,
    process: subprocess.Popen | None = None,
) -> None:
    """Wait until `ready()`, or raise with the part's last log line. `process`: the part,
    when this call started it (its exit is then known for sure; /proc can briefly hide a
    process that is replacing its program, as spark-class does when it execs Java)."""
    deadline = time.monotonic() + START_TIMEOUT_S
    exited = False
    while time.monotonic() < deadline:
        if ready():
            return
        alive = process.poll() is None if process else pid_of(config, part) is not None
        exited = not alive
        if exited:
            break
        time.sleep(1)
    log = config.logs_dir / f"{part.name}.log"
    lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
    last = next(
        (line for line in reversed(lines) if "ERROR" in line or "Exception" in line),
        lines[-1] if lines else "(empty log)",
    )
    state = "exited" if exited else f"gave no answer in {START_TIMEOUT_S} s"
    raise ClusterError(
        f"the cluster's {part.name} {state} before {what}: {last.strip()} (see {log})"
    )


def thrift_answers(config: ClusterConfig) -> bool:
    """The Thrift server runs a query (its port opens before its session is ready)."""
    if not port_answers(config.thrift_port):
        return False
    try:
        return query(config.thrift_port, "select 1") == [(1,)]
    except Exception:  # not ready yet, whatever the protocol says
        return False


def query(port: int, sql: str) -> list[tuple]:
    """One statement on the Thrift server, as dbt's thrift method sends it (PyHive)."""
    from pyhive import hive

    connection = hive.connect(host="127.0.0.1", port=port, username="dongne")
    try:
        cursor = connection.cursor()
        cursor.execute(sql)
        return list(cursor.fetchall()) if cursor.description else []
    finally:
        connection.close()


def stop(settings: Settings) -> list[str]:
    """Stop every part (the Thrift server first, the master last): the names stopped."""
    config = cluster_config(settings)
    stopped = []
    for part in reversed(parts(config)):
        pid = pid_of(config, part)
        if pid is not None:
            os.killpg(pid, signal.SIGTERM)
            for _ in range(60):
                if pid_of(config, part) is None:
                    break
                time.sleep(0.5)
            else:
                os.killpg(pid, signal.SIGKILL)
            stopped.append(part.name)
        (config.run_dir / f"{part.name}.pid").unlink(missing_ok=True)
    return stopped


def status(settings: Settings) -> dict[str, int | None]:
    config = cluster_config(settings)
    return {part.name: pid_of(config, part) for part in parts(config)}


def free_port() -> int:
    """A port on 127.0.0.1 nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def ephemeral_cluster(data_dir: Path) -> Iterator[dict[str, str]]:
    """A cluster for `data_dir` on free ports (a developer's own cluster may hold the usual
    ones), started as `make cluster` starts it and stopped on the way out: yields the
    settings a build on it needs (the test suite's and make bench's clusters)."""
    env = {
        "DONGNE_DATA_DIR": str(data_dir),
        "DONGNE_CLUSTER_MASTER_PORT": str(free_port()),
        "DONGNE_CLUSTER_UI_PORT": str(free_port()),
        "DONGNE_SPARK_THRIFT_PORT": str(free_port()),
    }
    command = [sys.executable, "-m", "orchestration.cluster"]
    run_env = {**os.environ, **env}
    started = subprocess.run(
        [*command, "start"], env=run_env, capture_output=True, text=True, timeout=600
    )
    try:
        if started.returncode:
            raise ClusterError(started.stdout + started.stderr)
        yield env
    finally:
        subprocess.run(
            [*command, "stop"], env=run_env, capture_output=True, timeout=300, check=True
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orchestration.cluster", description=__doc__)
    parser.add_argument("action", choices=("start", "stop", "status"))
    action = parser.parse_args(argv).action
    settings = load_settings()
    try:
        if action == "start":
            config = start(settings)
            print(
                f"Spark cluster up: master {config.master_url} "
                f"(http://127.0.0.1:{config.ui_port}), "
                f"{WORKERS} workers, Thrift server 127.0.0.1:{config.thrift_port}; "
                f"build on it with DONGNE_ENGINE=spark-cluster make run (logs: {config.logs_dir})"
            )
        elif action == "stop":
            stopped = stop(settings)
            print(f"stopped: {', '.join(stopped)}" if stopped else "no cluster was running")
        else:
            for name, pid in status(settings).items():
                print(f"{name}: {'running, pid ' + str(pid) if pid else 'stopped'}")
    except ClusterError as error:
        print(f"make cluster: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
