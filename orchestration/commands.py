"""The extra commands: one query on the published database (`make sql`), the semantic
layer (`make metrics`) and the dbt docs site (`make docs`)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb

from orchestration.preflight import UserError
from orchestration.runner import use_venv_tools
from orchestration.settings import DBT_PROJECT_DIR, Settings, venv_tool


def run_query(settings: Settings, query: str | None) -> None:
    """Run one query on the published database, read-only, and print the result."""
    if not query:
        raise UserError('give a query: make sql Q="select * from marts.fct_daily_active_users"')
    if not settings.analytics_path.exists():
        raise UserError(
            f"nothing published yet at {settings.analytics_path}: run `make run` first."
        )
    with duckdb.connect(str(settings.analytics_path), read_only=True) as con:
        try:
            con.sql(query).show(max_rows=50, max_width=160)
        except duckdb.Error as error:
            raise UserError(str(error).splitlines()[0]) from error


def metricflow_project(settings: Settings) -> Path:
    """Where `mf` runs: the dbt project seen through links, with `target/` being this data
    directory's prepared parse. MetricFlow reads `<project>/target/semantic_manifest.json`
    and ignores DBT_TARGET_PATH; the links keep every build's state in its data directory."""
    from orchestration.dbt_cli import prepare_parse, state_dir, target_dir

    prepare_parse(settings)
    folder = state_dir(settings) / "metricflow"
    folder.mkdir(parents=True, exist_ok=True)
    wanted = {entry.name: entry for entry in DBT_PROJECT_DIR.iterdir()}
    wanted.pop("logs", None)
    wanted["target"] = target_dir(settings)
    for name, source in wanted.items():
        link = folder / name
        if link.is_symlink() and link.resolve() == source.resolve():
            continue
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(source)
    return folder


def last_complete_day(analytics_path: Path) -> date | None:
    """The newest complete day the semantic layer's own tables know (docs/marts.md,
    "Complete days"): they follow in the batch run, while the headline marts are rebuilt on
    every arrival, so the headline marts may already know a newer one."""
    with duckdb.connect(str(analytics_path), read_only=True) as con:
        found = con.execute(
            "select max(activity_date) from marts.fct_active_user_days where is_complete"
        ).fetchone()
    return found[0] if found else None


def complete_days_only(settings: Settings, mf_args: list[str]) -> list[str]:
    """A query ends at the last complete day unless it names its own end: the metrics
    filter on complete days, and this also stops cumulative metrics (WAU, MAU), which
    MetricFlow carries over every later day of its time spine, from drawing a partial or
    future day as a fall."""
    if not mf_args or mf_args[0] != "query" or any(a.startswith("--end-time") for a in mf_args):
        return mf_args
    last = last_complete_day(settings.analytics_path)
    # No complete day yet: the day before any data, so the answer is empty, not partial.
    end = last if last is not None else date(1970, 1, 1)
    print(
        f"metrics: complete days only, through {end} (--end-time chooses another end)",
        file=sys.stderr,
    )
    return [*mf_args, "--end-time", end.isoformat()]


def metricflow_command(
    settings: Settings, mf_args: list[str]
) -> tuple[list[str], dict[str, str], Path]:
    """`mf <args>` as it must run: its command, environment and working directory."""
    use_venv_tools()
    from orchestration.dbt_cli import dbt_environment

    # The `published` target: the analysts' read-only copy, never the warehouse.
    env = {**os.environ, **dbt_environment(settings), "DONGNE_DBT_TARGET": "published"}
    folder = metricflow_project(settings)
    command = [venv_tool("mf"), *complete_days_only(settings, mf_args)]
    return command, env, folder


def run_metricflow(settings: Settings, mf_args: list[str]) -> int:
    """The semantic layer's CLI (MetricFlow) on the published database, the tier analysts
    read: the same numbers as `make sql`, and never a lock on the warehouse."""
    if not settings.analytics_path.exists():
        raise UserError(
            f"nothing published yet at {settings.analytics_path}: run `make run` first."
        )
    command, env, folder = metricflow_command(settings, mf_args or ["list", "metrics"])
    return subprocess.run(command, cwd=folder, env=env, check=False).returncode


def serve_docs(settings: Settings, port: int = 8080) -> int:
    """Generate the dbt docs site against the built warehouse and serve it locally."""
    if not settings.warehouse_location.exists():
        raise UserError("no warehouse yet: run `make run` first, then `make docs`.")
    use_venv_tools()
    from orchestration.dbt_cli import dbt_environment
    from orchestration.resources import DBT_EXECUTABLES

    env = {**os.environ, **dbt_environment(settings)}
    dbt = [venv_tool("dbt")]
    # The catalog comes from the engine that built the warehouse (on Spark, its session).
    generate = venv_tool(DBT_EXECUTABLES[settings.engine])
    common = ["--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)]
    generated = subprocess.run([generate, "docs", "generate", *common], env=env, check=False)
    if generated.returncode:
        return generated.returncode
    print(f"dbt docs: http://127.0.0.1:{port}  (Ctrl-C to stop)")
    served = subprocess.run(
        [
            *dbt[:1],
            "docs",
            "serve",
            *common,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-browser",
        ],
        env=env,
        check=False,
    )
    return served.returncode
