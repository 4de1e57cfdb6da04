"""What `make run` shows while it works: one line per stage (each source's landing, the
dbt build, the publish, the classifier) with a live spinner and its elapsed time.

Everything else a run prints (Dagster's log, dbt's node-by-node output, library
warnings) goes to a log file under the data directory, named at the end of the run;
`make run V=1` (`build -v`) shows it live instead. The stages come from Dagster's own
step events, received by a logger attached to the job (`with_progress`).
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from dagster import DagsterEventType, JobDefinition, LoggerDefinition, logger
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

LABELS = {
    "dongne_dbt_models": "dbt build: models, snapshots and tests",
    "analytics_db": "publish analytics.duckdb",
    "moderation_classifier": "train the moderation classifier",
}


def stage_label(step_key: str, engine: str = "duckdb") -> str:
    """A step as a person reads it: `raw_events` is "land events"."""
    if step_key.startswith("raw_"):
        return f"land {step_key.removeprefix('raw_')}"
    if step_key == "dongne_dbt_models" and engine.startswith("spark"):
        return "dbt build on Spark: models and tests"  # Parquet tables take no snapshots
    return LABELS.get(step_key, step_key)


class StageDisplay:
    """One line per stage: a spinner while it runs, then done or failed and its seconds.

    On a terminal the lines are live (rich); elsewhere (CI, a pipe) each line is printed
    once, when its stage ends.
    """

    def __init__(self, console: Console, engine: str = "duckdb") -> None:
        self.console = console
        self.engine = engine
        self.live = console.is_terminal
        self.progress = Progress(
            SpinnerColumn(finished_text=" "),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=console,
            disable=not self.live,
        )
        self.tasks: dict[str, TaskID] = {}
        self.started: dict[str, float] = {}
        self.outcomes: dict[str, str] = {}

    def __enter__(self) -> StageDisplay:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def started_step(self, step_key: str) -> None:
        if step_key in self.tasks:  # a retry: the same line
            self.progress.update(
                self.tasks[step_key], description=stage_label(step_key, self.engine)
            )
            return
        self.started[step_key] = time.perf_counter()
        self.tasks[step_key] = self.progress.add_task(stage_label(step_key, self.engine), total=1)

    def ended_step(self, step_key: str, outcome: str) -> None:
        """outcome: "done", "failed", "retrying" or "skipped"."""
        if step_key not in self.tasks:
            self.started_step(step_key)
        self.outcomes[step_key] = outcome
        label = stage_label(step_key, self.engine)
        finished = outcome != "retrying"
        self.progress.update(
            self.tasks[step_key],
            description=label if outcome == "done" else f"{label}: {outcome}",
            completed=1 if finished else 0,
        )
        if finished:
            self.progress.stop_task(self.tasks[step_key])
        if not self.live and finished:
            seconds = time.perf_counter() - self.started.get(step_key, time.perf_counter())
            mark = "done" if outcome == "done" else outcome.upper()
            self.console.print(f"  {label:<44} {mark:<8} {seconds:6.1f} s", highlight=False)

    def on_event(self, event: Any) -> None:
        """A Dagster event: step starts, successes, failures, retries and skips move lines."""
        step_key = getattr(event, "step_key", None)
        if not step_key:
            return
        kind = event.event_type
        if kind == DagsterEventType.STEP_START:
            self.started_step(step_key)
        elif kind == DagsterEventType.STEP_SUCCESS:
            self.ended_step(step_key, "done")
        elif kind == DagsterEventType.STEP_FAILURE:
            self.ended_step(step_key, "failed")
        elif kind == DagsterEventType.STEP_UP_FOR_RETRY:
            self.ended_step(step_key, "retrying")
        elif kind == DagsterEventType.STEP_SKIPPED:
            self.ended_step(step_key, "skipped")


class _EventHandler(logging.Handler):
    def __init__(self, display: StageDisplay) -> None:
        super().__init__(level=logging.DEBUG)
        self.display = display

    def emit(self, record: logging.LogRecord) -> None:
        event = getattr(record, "dagster_event", None)
        if event is not None:
            self.display.on_event(event)


def progress_logger(display: StageDisplay) -> LoggerDefinition:
    """A Dagster logger that moves `display` with the run's step events."""

    @logger(description="Stage lines of `make run`.")
    def _progress(_init_context: Any) -> logging.Logger:
        target = logging.Logger("dongne.progress", level=logging.DEBUG)
        target.addHandler(_EventHandler(display))
        return target

    return _progress


def with_progress(job: JobDefinition, display: StageDisplay) -> JobDefinition:
    """`job` with its own loggers plus the one that drives `display`."""
    return job.with_logger_defs({**job.loggers, "progress": progress_logger(display)})


def log_path(data_dir: Path) -> Path:
    """Where a build's full log goes: <data>/logs/build-<UTC time>.log."""
    folder = data_dir / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"build-{datetime.now().strftime('%Y%m%d-%H%M%S')}.log"


@contextmanager
def output_to_file(path: Path) -> Iterator[IO[str]]:
    """Send this process's stdout and stderr (and its children's) to `path`; yield a
    stream on the original terminal, for what the user must see meanwhile."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved_out, saved_err = os.dup(1), os.dup(2)
    terminal = os.fdopen(os.dup(1), "w", buffering=1)
    with path.open("a", encoding="utf-8") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield terminal
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved_out, 1)
            os.dup2(saved_err, 2)
            os.close(saved_out)
            os.close(saved_err)
            terminal.close()
