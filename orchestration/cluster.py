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

What each part is (its settings, environment and command line) is in cluster_parts.py;
this module starts, stops and lists them (`python -m orchestration.cluster
start|stop|status`).

Everything lives in `<DONGNE_DATA_DIR>/cluster/`: `logs/` (one log per JVM), `run/` (pid
files), `work/` (the workers' scratch), `conf/` (Spark's logging), `tmp/`, `metastore_db/`
and `warehouse/`. Every port is on 127.0.0.1: the master on DONGNE_CLUSTER_MASTER_PORT
(7077), its web page on DONGNE_CLUSTER_UI_PORT (8090), the Thrift server on
DONGNE_SPARK_THRIFT_PORT (10000).

Starting is idempotent: a part whose pid file names a live JVM of that part is left alone,
and `start` waits until the Thrift server answers a query, or stops with one line saying
why it cannot (and which log says more). `ephemeral_cluster` starts one on free ports for
a data directory and stops it afterwards (the test suite's and make bench's clusters).
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
from pathlib import Path

from orchestration.cluster_parts import (
    FAIR_POOLS,
    LOG4J2,
    PORTS,
    WORKERS,
    ClusterConfig,
    ClusterError,
    Part,
    cluster_config,
    java_env,
    parts,
    spark_home,
)
from orchestration.settings import Settings, load_settings

START_TIMEOUT_S = 180


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
    (config.home / "conf" / "fairscheduler.xml").write_text(FAIR_POOLS)
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
