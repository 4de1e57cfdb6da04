"""The run itself: `make run` builds every delivery (or a window of them) as one Dagster
run in this process, against the instance in the data directory, so `make dev` shows it
and the warehouse pool keeps it from overlapping any other writer."""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

from dagster import DagsterInstance, ExecuteInProcessResult
from rich.console import Console

from orchestration import timings
from orchestration.preflight import check_directories, process_command
from orchestration.progress import StageDisplay, log_path, output_to_file, with_progress
from orchestration.settings import VENV_BIN, Settings
from orchestration.summary import print_build_summary
from orchestration.window import EVERY_DELIVERY, DeliveryWindow

DAGSTER_YAML = Path(__file__).with_name("dagster.yaml")


def use_venv_tools() -> None:
    """dbt (called by dagster-dbt) must be the one installed beside this Python."""
    bin_dir = str(VENV_BIN)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")


def prepare_dbt(settings: Settings) -> None:
    """Parse the dbt project for `settings`' data directory, unless already done."""
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


def run_config(log_level: str, progress: bool = False) -> dict:
    """Dagster's console log at `log_level` (WARNING for tests, INFO for a build's log),
    and the stage display's logger when there is one (Dagster starts only the loggers a
    run's config names)."""
    loggers: dict[str, dict] = {"console": {"config": {"log_level": log_level}}}
    if progress:
        loggers["progress"] = {}
    return {"loggers": loggers}


def run_build(
    settings: Settings,
    instance: DagsterInstance,
    quiet: bool = True,
    window: DeliveryWindow = EVERY_DELIVERY,
    display: StageDisplay | None = None,
    job_name: str = "build_everything",
) -> ExecuteInProcessResult:
    """Run the `build_everything` job in this process with `settings` (their directories,
    engine and salt): every delivery (one unpartitioned run, whatever the number of days),
    or the deliveries of `window` (a single-run backfill of those days). `display`, when given,
    shows the run's stages as they start and end. `job_name` "refresh_headline" runs the
    near-real-time path instead (the headline marts only, then publish)."""
    # The definitions prepare dbt's parse when it is missing or stale.
    with timings.phase("definitions"):
        from orchestration.definitions import build_definitions
        from orchestration.partitions import calendar_of

        job = build_definitions(settings).resolve_job_def(job_name)
    if display is not None:
        job = with_progress(job, display)
    tags = {**window.run_tags(calendar_of(settings)), RUN_PID_TAG: str(os.getpid())}
    with timings.phase("run"):
        return job.execute_in_process(
            instance=instance,
            raise_on_error=False,
            run_config=run_config("WARNING" if quiet else "INFO", progress=display is not None),
            tags=tags,
        )


def run_with_display(
    settings: Settings,
    instance: DagsterInstance,
    window: DeliveryWindow,
    log: Path,
    job_name: str,
) -> ExecuteInProcessResult:
    """The run with its full output in `log` and one live line per stage on the terminal."""
    with output_to_file(log) as terminal:
        console = Console(file=terminal, highlight=False)
        with StageDisplay(console, settings.engine) as display:
            return run_build(settings, instance, False, window, display=display, job_name=job_name)


def build(
    settings: Settings,
    window: DeliveryWindow = EVERY_DELIVERY,
    verbose: bool = False,
    headline: bool = False,
) -> int:
    """Build every delivery, or only the deliveries of `window`: one line
    per stage while it works (or, `verbose`, the full log live), then the summary.
    `headline`: only the headline marts, as the arrival sensor's near-real-time run does."""
    job_name = "refresh_headline" if headline else "build_everything"
    check_directories(settings)
    prepare_dagster_home(settings)
    what = str(window)
    if headline:
        what = f"the headline marts of {what}"
    print(f"building {what} from {settings.raw_dir} into {settings.data_dir}", flush=True)
    log = None if verbose else log_path(settings.data_dir)
    began = time.perf_counter()
    with DagsterInstance.get() as instance:
        for run_id in recover_abandoned_runs(instance):
            print(f"note: run {run_id} of a killed build was marked failed", file=sys.stderr)
        if log is None:
            result = run_build(settings, instance, quiet=False, window=window, job_name=job_name)
        else:
            result = run_with_display(settings, instance, window, log, job_name)
    seconds = time.perf_counter() - began
    if not result.success:
        failures = [event for event in result.all_events if event.is_step_failure]
        for event in failures:
            error = event.step_failure_data.error
            message = error.message.strip().splitlines()[0] if error else "unknown error"
            print(f"FAILED {event.step_key}: {message}", file=sys.stderr)
        print(
            f"build failed after {seconds:.0f} s: see run {result.run_id} in the Dagster UI "
            f"(make dev){f' and the full log, {log}' if log else ''}.",
            file=sys.stderr,
        )
        return 1
    print(f"built in {seconds:.0f} s")
    with timings.phase("summary"):
        print_build_summary(settings, result)
    if log is not None:
        print(f"Full log (Dagster and dbt): {log}")
    record_timings(settings, result, window, log)
    return 0


def record_timings(
    settings: Settings,
    result: ExecuteInProcessResult,
    window: DeliveryWindow,
    log: Path | None,
) -> Path:
    """Where this build's seconds went (orchestration/timings.py), beside its log."""
    path = (log or log_path(settings.data_dir)).with_suffix(".timings.json")
    timings.write(
        path,
        run_id=result.run_id,
        window=None if window.is_every else [window.first, window.last],
        process_seconds=round(timings.process_age(), 3),
    )
    return path
