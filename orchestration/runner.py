"""The run itself: `make run` builds every delivery (or a window of them) as one Dagster
run in this process, against the instance in the data directory, so `make dev` shows it
and the warehouse pool keeps it from overlapping any other writer."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from dagster import DagsterInstance, ExecuteInProcessResult

from orchestration.preflight import check_directories, process_command
from orchestration.settings import Settings
from orchestration.summary import landing_counts, print_summary

DAGSTER_YAML = Path(__file__).with_name("dagster.yaml")


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
