"""Checks before a build starts: a raw directory with data in it, a writable data
directory outside it, and the engine ready: on DuckDB a warehouse no other program holds,
on Spark pyspark, dbt-spark and Java installed, on a Spark cluster PyHive and a Thrift
server that answers and keeps its tables in this data directory. Each failure is one
sentence a user can act on (UserError), never a traceback."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
from pathlib import Path

import duckdb

from orchestration.settings import Settings


class UserError(RuntimeError):
    """Something the user can fix; printed as its message alone."""


RAW_FOLDERS = ("events", "db", "reference")


def check_directories(settings: Settings) -> None:
    """Before anything runs: a raw directory with data in it, a writable data directory
    outside it, and a warehouse no other program holds."""
    raw, data = settings.raw_dir, settings.data_dir
    if raw.exists() and not raw.is_dir():
        raise UserError(
            f"DONGNE_RAW_DIR {raw} is a file, not a folder: point it at the folder that "
            "holds events/, db/ and reference/ (docs/sources.md)."
        )
    if not raw.is_dir():
        raise UserError(
            f"raw directory {raw} does not exist: set DONGNE_RAW_DIR to a folder with "
            "events/, db/ and reference/ (docs/sources.md), or unset it to use seeds/."
        )
    if not os.access(raw, os.R_OK | os.X_OK):
        raise UserError(
            f"raw directory {raw} is not readable by this user: fix its permissions "
            f"(e.g. `chmod -R a+rX {raw}`)."
        )
    if not any((raw / part).is_dir() for part in RAW_FOLDERS):
        raise UserError(
            f"raw directory {raw} holds no events/, db/ or reference/ folder: nothing "
            "to build. Point DONGNE_RAW_DIR at a delivery laid out as in docs/sources.md."
        )
    if not any(path.is_file() for part in RAW_FOLDERS for path in (raw / part).rglob("*")):
        raise UserError(
            f"raw directory {raw} has the folders of docs/sources.md but no files in them: no "
            "data has been delivered yet."
        )
    if data.resolve().is_relative_to(raw.resolve()):
        raise UserError(
            f"DONGNE_DATA_DIR {data} is inside the raw directory {raw}: the raw directory "
            "is read-only to the platform; choose a data folder outside it."
        )
    if data.exists() and not data.is_dir():
        raise UserError(
            f"DONGNE_DATA_DIR {data} is a file, not a folder: choose a folder (it is "
            "created if missing)."
        )
    try:
        data.mkdir(parents=True, exist_ok=True)
        probe = data / ".write-probe"
        probe.write_text("ok")
        probe.unlink()
    except OSError as error:
        raise UserError(
            f"cannot write to DONGNE_DATA_DIR {data} ({error.strerror}): choose a writable folder."
        ) from error
    if settings.engine == "spark":
        check_spark_is_installed()
    elif settings.engine == "spark-cluster":
        check_cluster_answers(settings)
    else:
        check_warehouse_is_free(settings.warehouse_path)


def check_cluster_answers(settings: Settings) -> None:
    """DONGNE_ENGINE=spark-cluster needs PyHive, a Thrift server that answers, and one that
    keeps its tables where this build's publish step reads them."""
    if not _has_module("pyhive.hive"):
        raise UserError(
            "DONGNE_ENGINE=spark-cluster needs PyHive, which this environment lacks: run "
            "`DONGNE_ENGINE=spark-cluster make run` (it installs it)."
        )
    from orchestration.cluster import port_answers, query
    from orchestration.cluster_parts import cluster_config

    port = cluster_config(settings).thrift_port
    if not port_answers(port):
        raise UserError(
            f"DONGNE_ENGINE=spark-cluster: no Spark Thrift server answers on 127.0.0.1:{port}: "
            "start one with `make cluster` (or set DONGNE_SPARK_THRIFT_PORT)."
        )
    try:
        ((_, warehouse),) = query(port, "set spark.sql.warehouse.dir")
    except Exception as error:  # whatever PyHive raises, the user sees it
        raise UserError(
            f"DONGNE_ENGINE=spark-cluster: the Thrift server on 127.0.0.1:{port} does not answer "
            f"a query ({error}): see {settings.cluster_dir / 'logs'}."
        ) from error
    expected = settings.spark_warehouse_dir
    if Path(warehouse.removeprefix("file:")) != expected:
        raise UserError(
            f"DONGNE_ENGINE=spark-cluster: the cluster on 127.0.0.1:{port} keeps its tables in "
            f"{warehouse}, not in this build's {expected}: start the cluster with this "
            "DONGNE_DATA_DIR (`make cluster-stop && make cluster`)."
        )


def check_spark_is_installed() -> None:
    """DONGNE_ENGINE=spark needs pyspark and dbt-spark (the `spark` extra) and a Java."""
    missing = [
        name
        for name, module in (("pyspark", "pyspark"), ("dbt-spark", "dbt.adapters.spark"))
        if not _has_module(module)
    ]
    if missing:
        raise UserError(
            f"DONGNE_ENGINE=spark needs {' and '.join(missing)}, which this environment lacks: "
            "run `DONGNE_ENGINE=spark make run` (it installs them), or "
            "`.venv/bin/pip install -e '.[spark]'`."
        )
    java_home = os.environ.get("JAVA_HOME")
    if not shutil.which("java") and not (java_home and (Path(java_home) / "bin" / "java").exists()):
        raise UserError(
            "DONGNE_ENGINE=spark needs Java 17 and finds no `java` on PATH (nor JAVA_HOME): "
            "install it (e.g. `apt-get install openjdk-17-jre-headless`), or unset DONGNE_ENGINE "
            "to build on DuckDB."
        )


def _has_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def lock_holder(message: str) -> str:
    """'PID 1234 (duckdb)' from DuckDB's lock error, with the process's command line."""
    found = re.search(r"PID (\d+)", message)
    if not found:
        return "another process"
    pid = found.group(1)
    command = " ".join(process_command(int(pid)).split())[:120]  # one line, whatever it holds
    return f"PID {pid}" + (f" ({command})" if command else "")


def process_command(pid: int) -> str:
    """A live process's command line ('' when there is no such process)."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return command.replace(b"\0", b" ").decode(errors="replace")


def check_warehouse_is_free(warehouse: Path) -> None:
    """DuckDB allows one writer per file: say who holds the warehouse, not dbt's traceback."""
    if not warehouse.exists():
        return
    try:
        duckdb.connect(str(warehouse)).close()
    except duckdb.IOException as error:
        if "lock" not in str(error).lower():
            raise
        raise UserError(
            f"the warehouse {warehouse} is held by {lock_holder(str(error))}: close that "
            "program (a DuckDB shell or notebook on the live warehouse; analysts should open "
            "analytics.duckdb instead) or wait for the running build, then run again."
        ) from error
