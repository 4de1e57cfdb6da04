"""How the platform calls dbt: its arguments, its environment, its parse state, and what
an invocation's run_results.json says (the nodes that did not finish, what failed).

Small pure functions build the dbt command line and environment of a run, so tests call
them directly. dbt's state lives in the data directory, beside the warehouse it
describes (`<DONGNE_DATA_DIR>/dbt/`): `target/` holds the project parsed with exactly the
environment the runs use, so every dbt call of every build partially parses (about a
second) instead of parsing the whole project again; `runs/` holds each call's
artifacts (run_results.json), kept a week for re-execution after a failure.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from orchestration.settings import DBT_PROJECT_DIR, Settings, venv_tool
from orchestration.window import DBT_FROM_ENV, DBT_TO_ENV, DeliveryWindow

# A test of several models runs in the step that builds the last of them (an identity
# between an incremental model and a mart runs with the marts).
BUILDABLE_TESTS = ["--indirect-selection", "buildable"]
UNFINISHED = {"error", "fail", "skipped", "runtime error"}
PROJECT_FOLDERS = ("models", "macros", "tests", "seeds", "snapshots")
# The platform's environment variables the project reads (`env_var(...)` in profiles.yml,
# macros and models) that its parse depends on: paths, limits, engine and target. The
# window, the salt and its pads are read too, but only when a model runs, so a new window
# or salt never re-parses; every other DONGNE_* variable (the sensor's interval, the BI
# address, ...) is not read by dbt at all, so `make dev` and `make run` share one parse.
PARSE_STATE_ENV = frozenset(
    {
        "DONGNE_DATA_DIR",
        "DONGNE_LAKE_DIR",
        "DONGNE_LAKE_URI",
        "DONGNE_SPARK_THRIFT_HOST",
        "DONGNE_SPARK_THRIFT_PORT",
        "DONGNE_SPARK_THREADS",
        "DONGNE_WAREHOUSE_PATH",
        "DONGNE_ANALYTICS_PATH",
        "DONGNE_DUCKDB_MEMORY_LIMIT",
        "DONGNE_DUCKDB_THREADS",
        "DONGNE_TMP_DIR",
        "DONGNE_ENGINE",
        "DONGNE_DBT_TARGET",
    }
)
NOT_PARSE_STATE = frozenset(
    {
        "DONGNE_PII_SALT",
        "DBT_ENV_SECRET_DONGNE_HMAC_INNER",
        "DBT_ENV_SECRET_DONGNE_HMAC_OUTER",
        DBT_FROM_ENV,
        DBT_TO_ENV,
    }
)


def build_args(window: DeliveryWindow) -> list[str]:
    """`dbt build` for a run: models, snapshots, seeds and data tests.

    A full build (every delivery) rebuilds the incremental models (tag:daily) from scratch; a
    window replaces, in place, the dates its deliveries can change (DuckDB: delete+insert;
    Spark: insert_overwrite of date partitions; dbt_project/macros/delivery_window.sql). Unit tests
    check the SQL, not the data: `make test` runs them, not every build.
    """
    args = ["build", *BUILDABLE_TESTS, "--exclude-resource-type", "unit_test"]
    if window.is_every:
        args.append("--full-refresh")
    return args


def state_dir(settings: Settings) -> Path:
    return settings.data_dir / "dbt"


def target_dir(settings: Settings) -> Path:
    """The prepared parse (partial_parse.msgpack) that every dbt call of a build starts from."""
    return state_dir(settings) / "target"


def runs_dir(settings: Settings) -> Path:
    return state_dir(settings) / "runs"


def dbt_environment(settings: Settings) -> dict[str, str]:
    """Everything dbt reads from the environment: the platform's paths and limits, and
    where dagster-dbt finds the prepared parse and dbt writes its logs."""
    return {
        **settings.dbt_env(),
        "DBT_TARGET_PATH": str(target_dir(settings)),
        "DBT_LOG_PATH": str(state_dir(settings) / "logs"),
        "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
        # No usage statistics (and no wait for an unreachable tracking host).
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DO_NOT_TRACK": "1",
    }


def parse_fingerprint(env: dict[str, str]) -> str:
    """What a prepared parse depends on: the project's files and the environment."""
    digest = hashlib.sha256()
    for name in ("dbt_project.yml", "profiles.yml"):
        digest.update((DBT_PROJECT_DIR / name).read_bytes())
    for folder in PROJECT_FOLDERS:
        for path in sorted((DBT_PROJECT_DIR / folder).rglob("*")):
            if path.is_file():
                stat = path.stat()
                digest.update(f"{path}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    for key in sorted(env):
        if key in PARSE_STATE_ENV or (key.startswith("DBT_") and key not in NOT_PARSE_STATE):
            digest.update(f"{key}={env[key]}".encode())
    return digest.hexdigest()


def prepare_parse(settings: Settings) -> bool:
    """Parse the project once for this data directory and environment; True if it parsed.

    dbt re-parses everything when its profile (the warehouse path, memory limit, ...) or
    its --vars differ from the saved parse. Parsing here with the runs' own environment,
    and passing the delivery window in the environment rather than in --vars, lets every
    later call use the saved parse.
    """
    target = target_dir(settings)
    env = {**os.environ, **dbt_environment(settings), **DeliveryWindow.every().dbt_env()}
    fingerprint = parse_fingerprint(env)
    stamp = target / "prepared.json"
    prepared = (target / "partial_parse.msgpack").exists() and stamp.exists()
    if prepared and json.loads(stamp.read_text()).get("fingerprint") == fingerprint:
        return False
    # Parsed aside and swapped in: a process loading the code location meanwhile reads
    # the old parse or the new one, never half of one.
    fresh = target.with_name(f"target.new-{os.getpid()}")
    shutil.rmtree(fresh, ignore_errors=True)
    fresh.mkdir(parents=True)
    parsed = subprocess.run(
        [venv_tool("dbt"), "parse", "--quiet", "--project-dir", str(DBT_PROJECT_DIR)],
        env={**env, "DBT_TARGET_PATH": str(fresh)},
        capture_output=True,
        text=True,
        check=False,
    )
    if parsed.returncode:
        shutil.rmtree(fresh, ignore_errors=True)
        raise RuntimeError(f"dbt parse failed: {(parsed.stdout + parsed.stderr).strip()[-2000:]}")
    (fresh / "prepared.json").write_text(json.dumps({"fingerprint": fingerprint}))
    retired = target.with_name(f"target.old-{os.getpid()}")
    if target.exists():
        target.rename(retired)
    fresh.rename(target)
    shutil.rmtree(retired, ignore_errors=True)
    return True


def attempt_dir(settings: Settings, step: str, run_id: str, attempt: int) -> Path:
    """One dbt invocation's target folder: its artifacts (run_results.json) and logs."""
    return runs_dir(settings) / f"{step}-{run_id}-{attempt}"


def prune_old_attempts(settings: Settings, keep_days: int = 7) -> None:
    """dbt artifacts are kept a week: long enough to re-execute a failed run.

    "A week" is counted back from the newest invocation's folder, not from the process's
    clock: one clock (the file system's) dates both sides, so a process whose clock
    disagrees with the disk's (a container, faketime in a test) never deletes the
    artifacts of the run it is about to retry.
    """
    folders = [folder for folder in runs_dir(settings).glob("*") if folder.is_dir()]
    if not folders:
        return
    cutoff = max(folder.stat().st_mtime for folder in folders) - keep_days * 86400
    for folder in folders:
        if folder.stat().st_mtime < cutoff:
            shutil.rmtree(folder, ignore_errors=True)


def node_results(target: Path) -> list[dict[str, Any]]:
    """The results of the dbt invocation whose artifacts are in `target` (none if it died)."""
    results = target / "run_results.json"
    if not results.exists():
        return []
    return json.loads(results.read_text()).get("results", [])


def unfinished_nodes(target: Path) -> list[str]:
    return [r["unique_id"] for r in node_results(target) if r.get("status") in UNFINISHED]


def failure_summary(target: Path) -> str:
    """One line naming what failed in a dbt invocation: the start of every alert about it."""
    failed = [r for r in node_results(target) if r.get("status") in {"error", "fail"}]
    if not failed:
        return "dbt failed before it ran a node (see the step's logs)"
    # unique ids: model.<project>.<name>, test.<project>.<name>.<hash>
    names = ", ".join(r["unique_id"].split(".")[2] for r in failed[:5])
    more = f" and {len(failed) - 5} more" if len(failed) > 5 else ""
    skipped = sum(r.get("status") == "skipped" for r in node_results(target))
    return f"dbt: {len(failed)} failed ({names}{more}); {skipped} downstream nodes skipped"
