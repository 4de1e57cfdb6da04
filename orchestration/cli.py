"""The command line behind `make run`: prepare dbt, build everything, print a summary.

    python -m orchestration.cli prepare   # dbt manifest (dagster-dbt loads it)
    python -m orchestration.cli build     # raw -> lake -> dbt -> analytics.duckdb
    python -m orchestration.cli summary   # what the last build published

Errors a user can fix are printed as one sentence, never as a traceback.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import traceback
from datetime import date
from pathlib import Path

import duckdb
from dagster import DagsterInstance, ExecuteInProcessResult

from orchestration.settings import (
    DBT_PROJECT_DIR,
    REPO_ROOT,
    Settings,
    SettingsError,
    load_settings,
)

DAGSTER_YAML = Path(__file__).with_name("dagster.yaml")


class UserError(RuntimeError):
    """Something the user can fix; printed as its message alone."""


def use_venv_tools() -> None:
    """dbt (called by dagster-dbt) must be the one installed beside this Python."""
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")


def prepare_dbt(settings: Settings) -> None:
    """Parse the dbt project for `settings`' data directory, unless already done."""
    use_venv_tools()
    from orchestration.dbt_cli import prepare_parse

    prepare_parse(settings)


def prepare_dagster_home(settings: Settings) -> Path:
    home = settings.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    target = home / "dagster.yaml"
    if not target.exists() or target.read_text() != DAGSTER_YAML.read_text():
        shutil.copyfile(DAGSTER_YAML, target)
    os.environ["DAGSTER_HOME"] = str(home)
    return home


RAW_FOLDERS = ("events", "db", "reference")


def check_directories(settings: Settings) -> None:
    """Before anything runs: a raw directory with data in it, a writable data directory
    outside it, and a warehouse no other program holds."""
    raw, data = settings.raw_dir, settings.data_dir
    if raw.exists() and not raw.is_dir():
        raise UserError(
            f"DONGNE_RAW_DIR {raw} is a file, not a folder: point it at the folder that "
            "holds events/, db/ and reference/ (SOURCES.md)."
        )
    if not raw.is_dir():
        raise UserError(
            f"raw directory {raw} does not exist: set DONGNE_RAW_DIR to a folder with "
            "events/, db/ and reference/ (SOURCES.md), or unset it to use seeds/."
        )
    if not os.access(raw, os.R_OK | os.X_OK):
        raise UserError(
            f"raw directory {raw} is not readable by this user: fix its permissions "
            f"(e.g. `chmod -R a+rX {raw}`)."
        )
    if not any((raw / part).is_dir() for part in RAW_FOLDERS):
        raise UserError(
            f"raw directory {raw} holds no events/, db/ or reference/ folder: nothing "
            "to build. Point DONGNE_RAW_DIR at a delivery laid out as in SOURCES.md."
        )
    if not any(path.is_file() for part in RAW_FOLDERS for path in (raw / part).rglob("*")):
        raise UserError(
            f"raw directory {raw} has the SOURCES.md folders but no files in them: no "
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
    check_warehouse_is_free(settings.warehouse_path)


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


RUN_PID_TAG = "dongne/pid"


def recover_abandoned_runs(instance: DagsterInstance) -> list[str]:
    """Fail the runs a killed `make run` left behind, and free their pool slots.

    A build killed mid-run (SIGKILL, a power cut) stays STARTED in Dagster's run history
    and keeps its claim on the `warehouse` pool, so the next build would wait for the
    slot forever. A run this command started carries its process id; when that process
    is gone, the run is marked failed and its slot freed. Runs of `make dev` (the daemon
    watches its own) and of a build still alive are left alone.
    """
    from dagster import DagsterRunStatus, RunsFilter

    in_flight = [DagsterRunStatus.STARTED, DagsterRunStatus.STARTING]
    recovered = []
    for run in instance.get_runs(filters=RunsFilter(statuses=in_flight)):
        pid = run.tags.get(RUN_PID_TAG)
        if pid is None or process_is_a_build(int(pid)):
            continue
        instance.report_run_failed(run, message=f"the build process {pid} is gone (killed)")
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        recovered.append(run.run_id)
    return recovered


def process_is_a_build(pid: int) -> bool:
    return "orchestration" in process_command(pid)


QUIET_RUN_CONFIG = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def run_build(
    settings: Settings,
    instance: DagsterInstance,
    quiet: bool = True,
    partitions: tuple[str, str] | None = None,
) -> ExecuteInProcessResult:
    """Run the `build_everything` job in this process against `settings`' directories:
    every delivery (one unpartitioned run, whatever the number of days), or the
    `partitions` range (a single-run backfill of those days)."""
    prepare_dbt(settings)
    if not settings.pii_salt_is_default:
        # dbt reads the salt from the environment (never from a config a UI would show):
        # the run uses the salt of `settings`, whatever this process started with.
        os.environ["DONGNE_PII_SALT"] = settings.pii_salt
    from orchestration.definitions import build_definitions
    from orchestration.partitions import window_tags

    job = build_definitions(settings).resolve_job_def("build_everything")
    tags = {} if partitions is None else window_tags(*partitions)
    tags[RUN_PID_TAG] = str(os.getpid())
    return job.execute_in_process(
        instance=instance,
        raise_on_error=False,
        run_config=QUIET_RUN_CONFIG if quiet else None,
        tags=tags,
    )


def landing_counts(result: ExecuteInProcessResult) -> list[tuple[str, int, int, int]]:
    """(source, received, loaded, quarantined) for every raw source the run landed."""
    counts = []
    for event in result.get_asset_materialization_events():
        materialization = event.event_specific_data.materialization
        metadata = materialization.metadata
        if "rows_received" in metadata:
            counts.append(
                (
                    materialization.asset_key.to_user_string(),
                    int(metadata["rows_received"].value),
                    int(metadata["rows_loaded"].value),
                    int(metadata["rows_quarantined"].value),
                )
            )
    return sorted(counts)


def build(settings: Settings, window: tuple[str, str] | None = None) -> int:
    """Build every delivery, or only the deliveries of `window` (first, last day)."""
    check_directories(settings)
    prepare_dagster_home(settings)
    print(f"building from {settings.raw_dir} into {settings.data_dir} ...", flush=True)
    with DagsterInstance.get() as instance:
        for run_id in recover_abandoned_runs(instance):
            print(f"note: run {run_id} of a killed build was marked failed", file=sys.stderr)
        result = run_build(settings, instance, partitions=window)
        if not result.success:
            failures = [event for event in result.all_events if event.is_step_failure]
            for event in failures:
                error = event.step_failure_data.error
                message = error.message.strip().splitlines()[0] if error else "unknown error"
                print(f"FAILED {event.step_key}: {message}", file=sys.stderr)
            print(
                f"build failed: see run {result.run_id} in the Dagster UI (make dev).",
                file=sys.stderr,
            )
            return 1
    print("\nLanded raw rows (received = loaded + quarantined):")
    for source, received, loaded, quarantined in landing_counts(result):
        print(f"  {source:<28} {received:>9,} = {loaded:>9,} + {quarantined:>6,}")
    for event in result.get_asset_materialization_events():
        materialization = event.event_specific_data.materialization
        if materialization.asset_key.to_user_string() == "moderation_classifier":
            metadata = materialization.metadata
            print(
                f"\nModeration classifier: macro F1 {metadata['macro_f1'].value:.3f} on "
                f"{metadata['test_rows'].value} test rows ({metadata['model_path'].value})"
            )
    print_summary(settings)
    return 0


def print_summary(settings: Settings) -> None:
    path = settings.analytics_path
    if not path.exists():
        raise UserError(f"nothing published yet at {path}: run `make run` first.")
    con = duckdb.connect(str(path), read_only=True)
    tables = con.execute("""
        select schema_name || '.' || table_name, estimated_size
        from duckdb_tables() where schema_name in ('marts', 'ml') order by 1
    """).fetchall()
    print("\nPublished tables (analytics.duckdb):")
    for name, _ in tables:
        rows = con.execute(f"select count(*) from {name}").fetchone()[0]
        print(f"  {name:<40} {rows:>9,} rows")
    con.close()
    quarantine = settings.lake_dir / "quarantine"
    if any(quarantine.glob("**/*.parquet")):
        reasons = duckdb.sql(f"""
            select source, reason, count(*)
            from read_parquet('{quarantine}/**/*.parquet', union_by_name = true)
            group by all order by 1, 2
        """).fetchall()
        print("\nQuarantined raw rows (by source and reason):")
        if not reasons:
            print("  none")
        for source, reason, count in reasons:
            print(f"  {source:<24} {reason:<26} {count:>7,}")
        print(f"  details: {quarantine}/<source>/**/*.parquet (file, line, reason, raw text)")
    print(f"\nAnalytics database : {path}")
    print(
        f"  open it read-only: duckdb -readonly {path}   (or duckdb.connect(path, read_only=True))"
    )
    print(f"Warehouse (restricted, holds raw personal data): {settings.warehouse_path}")
    print("Dagster UI         : make dev   -> http://127.0.0.1:3000")
    print("dbt docs           : make docs  -> http://127.0.0.1:8080")


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


def metricflow_command(settings: Settings, mf_args: list[str]) -> tuple[list[str], dict[str, str]]:
    """`mf <args>` as it must run: in the dbt project, with the platform's paths."""
    use_venv_tools()
    from orchestration.dbt_cli import dbt_environment

    env = {**os.environ, **dbt_environment(settings)}
    return [str(Path(sys.executable).parent / "mf"), *mf_args], env


def run_metricflow(settings: Settings, mf_args: list[str]) -> int:
    """The semantic layer's CLI (MetricFlow) against the warehouse built by `make run`."""
    if not settings.warehouse_path.exists():
        raise UserError("no warehouse yet: run `make run` first.")
    command, env = metricflow_command(settings, mf_args or ["list", "metrics"])
    return subprocess.run(command, cwd=DBT_PROJECT_DIR, env=env, check=False).returncode


def serve_docs(settings: Settings, port: int = 8080) -> int:
    """Generate the dbt docs site against the built warehouse and serve it locally."""
    if not settings.warehouse_path.exists():
        raise UserError("no warehouse yet: run `make run` first, then `make docs`.")
    use_venv_tools()
    from orchestration.dbt_cli import dbt_environment

    env = {**os.environ, **dbt_environment(settings)}
    dbt = [str(Path(sys.executable).parent / "dbt")]
    common = ["--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)]
    generated = subprocess.run([*dbt[:1], "docs", "generate", *common], env=env, check=False)
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


def _day(text: str) -> str:
    """A delivery day as given on the command line (YYYY-MM-DD)."""
    return date.fromisoformat(text).isoformat()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m orchestration.cli", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "command", choices=["prepare", "build", "summary", "dagster-home", "docs", "sql", "mf"]
    )
    parser.add_argument(
        "--from",
        dest="first",
        type=_day,
        help="with `build`: only the deliveries from this day (YYYY-MM-DD) ...",
    )
    parser.add_argument("--to", dest="last", type=_day, help="... to this day (default: --from)")
    parser.add_argument("query", nargs="?", help="with `sql`: the query to run on analytics.duckdb")
    parser.add_argument(
        "mf_args", nargs=argparse.REMAINDER, help="with `mf`: MetricFlow's arguments"
    )
    args = parser.parse_args(argv)
    os.chdir(REPO_ROOT)
    try:
        settings = load_settings()
        if args.command == "prepare":
            prepare_dbt(settings)
        elif args.command == "build":
            if settings.pii_salt_is_default:
                print(
                    "warning: DONGNE_PII_SALT is not set; using the development salt "
                    "(pseudonyms are not secret).",
                    file=sys.stderr,
                )
            window = (args.first, args.last or args.first) if args.first else None
            return build(settings, window)
        elif args.command == "summary":
            print_summary(settings)
        elif args.command == "dagster-home":
            print(prepare_dagster_home(settings))
        elif args.command == "docs":
            return serve_docs(settings)
        elif args.command == "sql":
            run_query(settings, args.query)
        elif args.command == "mf":
            return run_metricflow(settings, [a for a in [args.query, *args.mf_args] if a])
    except (UserError, SettingsError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except Exception as error:  # never a raw traceback: one line, the details in a file
        log = Path(tempfile.gettempdir()) / "dongne-last-error.log"
        log.write_text(traceback.format_exc(), encoding="utf-8")
        message = str(error).strip().splitlines()[0] if str(error).strip() else ""
        print(
            f"error: {type(error).__name__}: {message} (the full traceback is in {log})",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
