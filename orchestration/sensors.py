"""Sensors: new raw files start a build of their day; every run's end sends an alert.

`raw_arrival` lists the raw directory every time the daemon looks (every 5 s; names,
sizes and times only). A delivery (a day folder of events, a day file of an export) that
is new or has gained files since the last tick gets a `refresh_headline` run of its day:
landed again, the headline marts rebuilt, the database published (the near-real-time
path). Once arrivals pause, one `build_everything` run takes in every delivery the fast
runs owe (the batch layer). A changed reference sheet rebuilds with the newest delivery.
With nothing published yet, the first tick builds every delivery in one run. Each run's
deliveries travel as a `window.DeliveryWindow`, in its run tags.
"""

import hashlib
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from dagster import (
    DagsterRunStatus,
    DefaultSensorStatus,
    RunFailureSensorContext,
    RunRequest,
    RunsFilter,
    RunStatusSensorContext,
    SensorDefinition,
    SensorEvaluationContext,
    SkipReason,
    run_failure_sensor,
    run_status_sensor,
    sensor,
)
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

from orchestration import landing
from orchestration.freshness import load_pending
from orchestration.jobs import BATCH_JOB, HEADLINE_JOB
from orchestration.notify import Alert, NotifierResource
from orchestration.resources import PlatformResource
from orchestration.settings import batch_idle_seconds, sensor_interval_seconds
from orchestration.window import Calendar, DeliveryWindow

REFERENCE = "reference"
EXCEPTION_PREFIX = re.compile(r"^[\w.]+(Error|Exception|Failure): ")


def raw_signatures(raw_dir: Path) -> dict[str, str]:
    """A fingerprint of each delivery's files (name, size, mtime): it changes when a file
    is added to the delivery. Reference sheets share one fingerprint."""
    files: dict[str, list[str]] = {}
    patterns = ["events/*/*.jsonl*", "db/*/*.csv*", "reference/*.csv"]
    for pattern in patterns:
        for path in landing.raw_files(raw_dir, pattern):
            relative = path.relative_to(raw_dir).as_posix()
            key = landing.delivery_key(relative) or REFERENCE
            stat = path.stat()
            files.setdefault(key, []).append(f"{relative}:{stat.st_size}:{stat.st_mtime_ns}")
    return {
        key: hashlib.sha256("\n".join(sorted(entries)).encode()).hexdigest()[:16]
        for key, entries in sorted(files.items())
    }


def arrival_requests(
    previous: dict[str, str] | None,
    current: dict[str, str],
    published: bool,
    calendar: Calendar,
) -> list[RunRequest]:
    """The runs that bring the published headline figures up to date with `current`
    deliveries: a `refresh_headline` run per changed delivery (the near-real-time path),
    or, with nothing built yet, one full build. `calendar` is the partition calendar the
    code location loaded with: a day inside it is also a partition in the UI."""
    if previous is None and not published:
        # Nothing built yet: one full build, an unpartitioned run over every delivery.
        digest = hashlib.sha256(json.dumps(current, sort_keys=True).encode()).hexdigest()[:16]
        return [RunRequest(run_key=f"all:{digest}", job_name=BATCH_JOB)]
    if previous is None:
        return []
    changed = sorted(key for key, value in current.items() if previous.get(key) != value)
    deliveries = sorted(key for key in current if key != REFERENCE)
    requests = []
    for key in changed:
        if key == REFERENCE and not deliveries:
            continue
        # A reference sheet rebuilds with the newest delivery (reference tables are landed
        # whole by every run).
        day = deliveries[-1] if key == REFERENCE else key
        requests.append(
            RunRequest(
                run_key=f"{key}:{current[key]}",
                tags=DeliveryWindow.days(day).run_tags(calendar),
                job_name=HEADLINE_JOB,
            )
        )
    return requests


@dataclass
class ArrivalCursor:
    """What the arrival sensor remembers between ticks."""

    signatures: dict[str, str]
    # When the newest arrival was seen (Unix time): the batch run waits for a pause.
    last_arrival: float = 0.0

    def to_json(self) -> str:
        return json.dumps({"signatures": self.signatures, "last_arrival": self.last_arrival})

    @staticmethod
    def from_json(text: str | None) -> "ArrivalCursor | None":
        if not text:
            return None
        value = json.loads(text)
        if "signatures" not in value:  # a cursor written before the batch layer existed
            return ArrivalCursor(signatures=value)
        return ArrivalCursor(value["signatures"], value["last_arrival"])


def batch_request(owed: DeliveryWindow, calendar: Calendar) -> RunRequest:
    """One `build_everything` run over the deliveries the near-real-time path refreshed
    (freshness.load_pending): every table, equal to a full rebuild again."""
    return RunRequest(
        run_key=f"batch:{owed.first}:{owed.last}:{time.time():.0f}",
        tags=owed.run_tags(calendar),
        job_name=BATCH_JOB,
    )


def runs_in_flight(context: SensorEvaluationContext) -> bool:
    """Whether a run of the platform's jobs is queued or running (the batch waits for it)."""
    busy = [
        DagsterRunStatus.QUEUED,
        DagsterRunStatus.NOT_STARTED,
        DagsterRunStatus.STARTING,
        DagsterRunStatus.STARTED,
    ]
    return any(
        context.instance.get_runs(filters=RunsFilter(statuses=busy, job_name=name), limit=1)
        for name in (HEADLINE_JOB, BATCH_JOB)
    )


def arrival_sensor(
    jobs: list[UnresolvedAssetJobDefinition], calendar: Calendar
) -> SensorDefinition:
    """The `raw_arrival` sensor of a code location whose partition calendar is `calendar`."""

    @sensor(
        name="raw_arrival",
        jobs=jobs,
        minimum_interval_seconds=sensor_interval_seconds(),
        default_status=DefaultSensorStatus.RUNNING,
        description="New files in DONGNE_RAW_DIR: a `refresh_headline` run of their delivery "
        "day at once, then, when arrivals pause, one `build_everything` run of those days.",
    )
    def raw_arrival(
        context: SensorEvaluationContext, platform: PlatformResource
    ) -> Iterator[RunRequest | SkipReason]:
        settings = platform.settings()
        if not settings.raw_dir.is_dir():
            yield SkipReason(f"raw directory {settings.raw_dir} does not exist")
            return
        current = raw_signatures(settings.raw_dir)
        state = ArrivalCursor.from_json(context.cursor)
        previous = state.signatures if state else None
        requests = arrival_requests(previous, current, settings.analytics_path.exists(), calendar)
        cursor = ArrivalCursor(current, state.last_arrival if state else 0.0)
        owed = load_pending(settings.data_dir)
        if requests:
            cursor.last_arrival = time.time()
        elif owed is not None and time.time() - cursor.last_arrival >= batch_idle_seconds():
            if runs_in_flight(context):
                context.update_cursor(cursor.to_json())
                yield SkipReason("no new raw files; the batch run waits for the running ones")
                return
            requests = [batch_request(owed, calendar)]
        context.update_cursor(cursor.to_json())
        if not requests:
            yield SkipReason("no new raw files")
            return
        yield from requests

    return raw_arrival


def describe_partitions(tags: dict[str, str]) -> str:
    """The deliveries a run covered, as an alert names them ("all deliveries" for a full
    build, whatever calendar the run was started with)."""
    window = DeliveryWindow.of_run(tags, calendar=None)
    if window.is_every:
        return "all deliveries"
    return window.first if window.first == window.last else f"{window.first}..{window.last}"


def run_alert(context: RunStatusSensorContext, status: str, notifier: NotifierResource) -> Alert:
    run = context.dagster_run
    assets = sorted(key.to_user_string() for key in (run.asset_selection or []))
    return Alert(
        status=status,
        job=run.job_name,
        run_id=run.run_id,
        run_url=notifier.run_url(run.run_id),
        partitions=describe_partitions(dict(run.tags)),
        assets=assets,
    )


@run_failure_sensor(
    default_status=DefaultSensorStatus.RUNNING,
    description="Sends an alert (Slack webhook or alerts.log) when a run fails.",
)
def alert_on_run_failure(context: RunFailureSensorContext, notifier: NotifierResource) -> None:
    alert = run_alert(context, "failure", notifier)
    failures = []
    for event in context.get_step_failure_events():
        error = event.step_failure_data.error
        message = error.message.strip().splitlines()[0] if error and error.message else ""
        message = EXCEPTION_PREFIX.sub("", message)  # "dagster...Failure: dbt: ..." -> "dbt: ..."
        failures.append(f"{event.step_key}: {message}")
    alert.error = "; ".join(failures) or (context.failure_event.message or "run failed")
    if not alert.assets:
        alert.assets = sorted({event.step_key for event in context.get_step_failure_events()})
    notifier.send(alert)


@run_status_sensor(
    run_status=DagsterRunStatus.SUCCESS,
    default_status=DefaultSensorStatus.RUNNING,
    description="Sends a success note (Slack webhook or alerts.log) when a run succeeds.",
)
def alert_on_run_success(context: RunStatusSensorContext, notifier: NotifierResource) -> None:
    notifier.send(run_alert(context, "success", notifier))
