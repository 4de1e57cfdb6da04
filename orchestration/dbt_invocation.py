"""One dbt invocation: in this process on DuckDB, in the engine's own process on Spark.

On DuckDB, dbt runs in the build's own process through dbt's programmatic entry point
(`dbtRunner`): no second Python start, no second import of dbt (about 5 s of every
build, measured with py-spy), and no JSON log to print and parse again. On Spark, dbt
must run in the process that owns the SparkSession (`dongne-dbt-spark`), so it stays a
child process whose JSON log lines are read as they come.

Either way the caller gets the same thing: dbt's result events (one per model, seed,
snapshot and test, in dbt's structured-log form, which dagster-dbt turns into asset
events) and the invocation's target folder with its run_results.json. dbt reads its
settings from the environment (`env_var()` in the profile); in this process they are
set for the invocation only and restored after it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orchestration.settings import DBT_PROJECT_DIR

# dbt's events that carry one node's result (dagster-dbt's `is_result_event`).
RESULT_EVENTS = frozenset({"LogSeedResult", "LogModelResult", "LogSnapshotResult", "LogTestResult"})
PARTIAL_PARSE = "partial_parse.msgpack"


@dataclass
class DbtInvocation:
    """What one dbt command did: its result events, and whether dbt succeeded."""

    args: list[str]
    target: Path
    results: list[dict[str, Any]] = field(default_factory=list)
    success: bool = False
    error: str = ""


@contextmanager
def environment(env: Mapping[str, str]) -> Iterator[None]:
    """`env` in os.environ for the block (dbt reads it there), then as it was."""
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def project_args(target: Path) -> list[str]:
    """Where dbt finds the project and profile, and where it writes this invocation's
    artifacts and log."""
    return [
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(target),
        "--log-path",
        str(target),
    ]


def seed_partial_parse(prepared: Path, target: Path) -> None:
    """Start the invocation from the prepared parse (about a second instead of a parse)."""
    source = prepared / PARTIAL_PARSE
    target.mkdir(parents=True, exist_ok=True)
    if source.exists() and not (target / PARTIAL_PARSE).exists():
        shutil.copyfile(source, target / PARTIAL_PARSE)


def invoke_dbt(
    args: list[str],
    target: Path,
    prepared: Path,
    env: Mapping[str, str],
    executable: str | None = None,
    on_result: Callable[[dict[str, Any]], None] | None = None,
) -> DbtInvocation:
    """Run `dbt <args>` with `env`, artifacts in `target`: in this process, or through
    `executable` (a dbt entry point of its own, as Spark's) when one is given.
    `on_result` sees each node's result as dbt reports it."""
    seed_partial_parse(prepared, target)
    invocation = DbtInvocation(args=list(args), target=target)
    full_args = [*args, *project_args(target)]
    if executable is None:
        _in_process(full_args, env, invocation, on_result)
    else:
        _in_child(executable, full_args, env, invocation, on_result)
    return invocation


def _in_process(
    args: list[str],
    env: Mapping[str, str],
    invocation: DbtInvocation,
    on_result: Callable[[dict[str, Any]], None] | None,
) -> None:
    from dbt.cli.main import dbtRunner
    from dbt_common.events.functions import msg_to_dict

    def collect(message: Any) -> None:
        if message.info.name in RESULT_EVENTS:
            result = msg_to_dict(message)
            invocation.results.append(result)
            if on_result is not None:
                on_result(result)

    with environment(env):
        try:
            outcome = dbtRunner(callbacks=[collect]).invoke(args)
        finally:
            release_duckdb()
    invocation.success = bool(outcome.success)
    if outcome.exception is not None:
        invocation.error = f"{type(outcome.exception).__name__}: {outcome.exception}"


def release_duckdb() -> None:
    """dbt-duckdb keeps the warehouse open after a programmatic run (dbt-duckdb#616):
    closed here, so the publish step (and any other process) can open it."""
    from dbt.adapters.duckdb import DuckDBConnectionManager

    DuckDBConnectionManager.close_all_connections()


def _in_child(
    executable: str,
    args: list[str],
    env: Mapping[str, str],
    invocation: DbtInvocation,
    on_result: Callable[[dict[str, Any]], None] | None,
) -> None:
    process = subprocess.Popen(
        [executable, *args],
        env={**os.environ, **env, "DBT_LOG_FORMAT": "json", "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=DBT_PROJECT_DIR,
    )
    assert process.stdout is not None
    last_lines: list[str] = []
    for line in process.stdout:
        try:
            event = json.loads(line)
            message = event["info"]["msg"]
        except (ValueError, KeyError, TypeError):
            event, message = None, line.rstrip("\n")
        sys.stdout.write(message + "\n")
        last_lines = [*last_lines[-19:], message]
        if event is not None and event["info"].get("name") in RESULT_EVENTS:
            invocation.results.append(event)
            if on_result is not None:
                on_result(event)
    invocation.success = process.wait() == 0
    if not invocation.success:
        invocation.error = "\n".join(last_lines)
