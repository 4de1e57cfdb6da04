"""The pieces that make the platform run by itself: the arrival sensor, alerts, the
morning schedule, and the volume and freshness checks."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from dagster import (
    DagsterEventType,
    DagsterInstance,
    DagsterRunStatus,
    RunRequest,
    SkipReason,
    build_run_status_sensor_context,
    build_schedule_context,
    build_sensor_context,
    define_asset_job,
    job,
    op,
)
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
)
from dagster._core.test_utils import create_run_for_test

from orchestration import landing
from orchestration.assets.ingest import freshness_result, volume_result
from orchestration.freshness import add_pending
from orchestration.jobs import HEADLINE_JOB, build_everything_job
from orchestration.notify import Alert, NotifierResource
from orchestration.resources import PlatformResource
from orchestration.schedules import daily_build_schedule
from orchestration.sensors import (
    ArrivalCursor,
    alert_on_run_success,
    arrival_requests,
    arrival_sensor,
    raw_signatures,
)
from orchestration.window import DELIVERY_FROM_TAG, DELIVERY_TO_TAG, DeliveryWindow

# The partition calendar the code location under test loaded with.
CALENDAR = ("2026-09-01", "2026-09-30")
raw_arrival = arrival_sensor([build_everything_job, define_asset_job(HEADLINE_JOB)], CALENDAR)


def window_of(request: RunRequest) -> DeliveryWindow:
    return DeliveryWindow.of_run(request.tags, CALENDAR)


EVENT_LINE = (
    '{"event_id":"e1","event_name":"app_open","user_id":1,"device_id":"d1",'
    '"occurred_at":"2026-09-01T09:00:00+09:00","received_at":"2026-09-01T00:00:01Z"}\n'
)


def deliver(raw: Path, relative: str, text: str = EVENT_LINE) -> None:
    path = raw / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.fixture
def raw_with_two_days(tmp_path: Path) -> tuple[Path, list[str]]:
    days = ["2026-09-28", "2026-09-29"]
    raw = tmp_path / "raw"
    for day in days:
        deliver(raw, f"events/{day}/collector-a.jsonl")
        deliver(raw, f"db/users/{day}.csv", "user_id,nickname\n")
    deliver(raw, "reference/regions.csv", "region_id,city,district,neighborhood\n")
    return raw, days


def test_signatures_change_only_for_the_delivery_that_gained_a_file(
    raw_with_two_days: tuple[Path, list[str]],
) -> None:
    raw, (first, second) = raw_with_two_days
    before = raw_signatures(raw)
    assert set(before) == {first, second, "reference"}
    deliver(raw, f"events/{second}/collector-b.jsonl")
    after = raw_signatures(raw)
    assert after[first] == before[first] and after["reference"] == before["reference"]
    assert after[second] != before[second]
    # Nothing new: the same fingerprints.
    assert raw_signatures(raw) == after


def test_a_new_file_in_a_day_folder_requests_that_partition_only(
    raw_with_two_days: tuple[Path, list[str]],
) -> None:
    raw, (_, second) = raw_with_two_days
    before = raw_signatures(raw)
    deliver(raw, f"events/{second}/collector-b.jsonl")
    requests = arrival_requests(before, raw_signatures(raw), True, CALENDAR)
    assert [window_of(request) for request in requests] == [DeliveryWindow.days(second)]
    # Inside the calendar: also that day's partition, for the UI.
    assert requests[0].tags[ASSET_PARTITION_RANGE_START_TAG] == second
    assert requests[0].tags[ASSET_PARTITION_RANGE_END_TAG] == second
    # An arrival goes the near-real-time way: the headline marts first.
    assert requests[0].job_name == "refresh_headline"
    # The run key names the delivery's new content: the same files never run twice.
    assert requests[0].run_key == f"{second}:{raw_signatures(raw)[second]}"
    assert arrival_requests(raw_signatures(raw), raw_signatures(raw), True, CALENDAR) == []


def test_a_changed_reference_sheet_rebuilds_with_the_newest_delivery(
    raw_with_two_days: tuple[Path, list[str]],
) -> None:
    raw, (_, newest) = raw_with_two_days
    before = raw_signatures(raw)
    deliver(raw, "reference/regions.csv", "region_id,city,district,neighborhood\n1,a,b,c\n")
    (request,) = arrival_requests(before, raw_signatures(raw), True, CALENDAR)
    assert window_of(request) == DeliveryWindow.days(newest)


def test_a_delivery_newer_than_the_calendar_runs_as_a_window_of_that_day(
    raw_with_two_days: tuple[Path, list[str]],
) -> None:
    raw, _ = raw_with_two_days
    before = raw_signatures(raw)
    beyond = (date.fromisoformat(CALENDAR[1]) + timedelta(days=1)).isoformat()
    deliver(raw, f"events/{beyond}/collector-a.jsonl")
    (request,) = arrival_requests(before, raw_signatures(raw), True, CALENDAR)
    assert request.partition_key is None
    assert request.tags == {DELIVERY_FROM_TAG: beyond, DELIVERY_TO_TAG: beyond}
    assert window_of(request) == DeliveryWindow.days(beyond)


def test_first_tick_builds_everything_once_unless_something_is_published(
    raw_with_two_days: tuple[Path, list[str]],
) -> None:
    raw, _ = raw_with_two_days
    current = raw_signatures(raw)
    (request,) = arrival_requests(None, current, False, CALENDAR)
    assert request.job_name == "build_everything"
    # A full build: one unpartitioned run, not a backfill of every day.
    assert request.partition_key is None and window_of(request).is_every
    assert ASSET_PARTITION_RANGE_START_TAG not in request.tags
    assert arrival_requests(None, current, True, CALENDAR) == []


def test_sensor_tick_requests_a_run_for_a_new_file_and_keeps_its_cursor(
    raw_with_two_days: tuple[Path, list[str]], tmp_path: Path
) -> None:
    raw, (_, second) = raw_with_two_days
    data = tmp_path / "data"
    data.mkdir()
    (data / "analytics.duckdb").write_bytes(b"")  # something is published already
    platform = PlatformResource(raw_dir=str(raw), data_dir=str(data))
    with DagsterInstance.ephemeral() as instance:
        first_tick = build_sensor_context(instance=instance, resources={"platform": platform})
        assert all(isinstance(r, SkipReason) for r in raw_arrival(first_tick))
        cursor = first_tick.cursor
        deliver(raw, f"events/{second}/collector-b.jsonl")
        next_tick = build_sensor_context(
            instance=instance, cursor=cursor, resources={"platform": platform}
        )
        requests = list(raw_arrival(next_tick))
    assert [window_of(r) for r in requests if isinstance(r, RunRequest)] == [
        DeliveryWindow.days(second)
    ]
    assert json.loads(next_tick.cursor)["signatures"] == raw_signatures(raw)


def sensor_tick(
    raw: Path, data: Path, instance: DagsterInstance, last_arrival: float
) -> list[RunRequest | SkipReason]:
    """One tick of the arrival sensor with nothing new in `raw` since the last one, which
    saw an arrival at `last_arrival` (Unix time)."""
    cursor = ArrivalCursor(raw_signatures(raw), last_arrival).to_json()
    platform = PlatformResource(raw_dir=str(raw), data_dir=str(data))
    context = build_sensor_context(
        instance=instance, cursor=cursor, resources={"platform": platform}
    )
    return list(raw_arrival(context))


def published_data_dir(tmp_path: Path) -> Path:
    """A data directory where something is published already."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "analytics.duckdb").write_bytes(b"")
    return data


def test_after_a_pause_one_batch_run_takes_in_what_the_fast_path_owes(
    raw_with_two_days: tuple[Path, list[str]], tmp_path: Path
) -> None:
    raw, (first, second) = raw_with_two_days
    data = published_data_dir(tmp_path)
    with DagsterInstance.ephemeral() as instance:
        # Nothing owed: nothing to do, however long the pause.
        (skipped,) = sensor_tick(raw, data, instance, last_arrival=0.0)
        assert isinstance(skipped, SkipReason)
        add_pending(data, DeliveryWindow.days(first))
        add_pending(data, DeliveryWindow.days(second))
        # Arrivals have not paused yet: the batch waits.
        (waiting,) = sensor_tick(raw, data, instance, last_arrival=time.time())
        assert isinstance(waiting, SkipReason)
        (batch,) = sensor_tick(raw, data, instance, last_arrival=time.time() - 3600)
    assert isinstance(batch, RunRequest) and batch.job_name == "build_everything"
    assert window_of(batch) == DeliveryWindow(first, second)


def test_the_batch_run_waits_for_the_runs_in_flight(
    raw_with_two_days: tuple[Path, list[str]], tmp_path: Path
) -> None:
    raw, (first, _) = raw_with_two_days
    data = published_data_dir(tmp_path)
    add_pending(data, DeliveryWindow.days(first))
    with DagsterInstance.ephemeral() as instance:
        running = create_run_for_test(
            instance, job_name="refresh_headline", status=DagsterRunStatus.STARTED
        )
        (waiting,) = sensor_tick(raw, data, instance, last_arrival=0.0)
        assert isinstance(waiting, SkipReason) and "waits" in (waiting.skip_message or "")
        instance.report_run_failed(running)
        (batch,) = sensor_tick(raw, data, instance, last_arrival=0.0)
    assert isinstance(batch, RunRequest) and batch.job_name == "build_everything"


def test_a_cursor_from_before_the_batch_layer_is_read_as_signatures() -> None:
    old = json.dumps({"2026-09-01": "abc"})
    assert ArrivalCursor.from_json(old) == ArrivalCursor({"2026-09-01": "abc"}, 0.0)
    assert ArrivalCursor.from_json(None) is None


def test_sensor_skips_with_a_reason_when_the_raw_directory_is_missing(tmp_path: Path) -> None:
    platform = PlatformResource(raw_dir=str(tmp_path / "nowhere"), data_dir=str(tmp_path))
    with DagsterInstance.ephemeral() as instance:
        context = build_sensor_context(instance=instance, resources={"platform": platform})
        (result,) = list(raw_arrival(context))
    assert isinstance(result, SkipReason) and "does not exist" in (result.skip_message or "")


class Webhook(BaseHTTPRequestHandler):
    received: ClassVar[list[dict]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Webhook.received.append(json.loads(body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_alert_goes_to_the_webhook_and_the_log(tmp_path: Path) -> None:
    server = HTTPServer(("127.0.0.1", 0), Webhook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Webhook.received.clear()
    try:
        notifier = NotifierResource(
            alert_log=str(tmp_path / "alerts.log"),
            slack_webhook_url=f"http://127.0.0.1:{server.server_port}/hook",
        )
        notifier.send(
            Alert(
                status="failure",
                job="build_everything",
                run_id="abc123",
                run_url=notifier.run_url("abc123"),
                partitions="2026-09-03",
                assets=["marts/fct_daily_active_users"],
                error="dongne_dbt_models: dbt: 1 failed (unique_x)",
            )
        )
    finally:
        server.shutdown()
    (payload,) = Webhook.received
    assert "FAILURE" in payload["text"] and "2026-09-03" in payload["text"]
    assert "http://127.0.0.1:3000/runs/abc123" in payload["text"]
    assert "unique_x" in payload["text"] and "marts/fct_daily_active_users" in payload["text"]
    (record,) = [json.loads(line) for line in (tmp_path / "alerts.log").read_text().splitlines()]
    assert record["delivered_to"] == "webhook (200)" and record["run_id"] == "abc123"


def test_a_dead_webhook_never_loses_the_alert(tmp_path: Path) -> None:
    notifier = NotifierResource(
        alert_log=str(tmp_path / "alerts.log"), slack_webhook_url="http://127.0.0.1:9/hook"
    )
    notifier.send(Alert("success", "build_everything", "r1", notifier.run_url("r1"), "-"))
    (record,) = [json.loads(line) for line in (tmp_path / "alerts.log").read_text().splitlines()]
    assert record["delivered_to"].startswith("webhook failed") and record["status"] == "success"


@op
def succeed() -> None:
    pass


@job(tags={"dagster/partition": "2026-09-03"})
def tiny_job() -> None:
    succeed()


def test_success_sensor_sends_the_run_and_its_partition(tmp_path: Path) -> None:
    with DagsterInstance.ephemeral() as instance:
        result = tiny_job.execute_in_process(instance=instance)
        run = instance.get_run_by_id(result.run_id)
        assert run is not None
        event = (
            instance.get_records_for_run(result.run_id, of_type=DagsterEventType.RUN_SUCCESS)
            .records[0]
            .event_log_entry.dagster_event
        )
        notifier = NotifierResource(alert_log=str(tmp_path / "alerts.log"), ui_url="http://ui")
        with build_run_status_sensor_context(
            sensor_name="alert_on_run_success",
            dagster_instance=instance,
            dagster_run=run,
            dagster_event=event,
            resources={"notifier": notifier},
        ) as context:
            alert_on_run_success(context)
    (record,) = [json.loads(line) for line in (tmp_path / "alerts.log").read_text().splitlines()]
    assert record["status"] == "success" and record["job"] == "tiny_job"
    assert record["partitions"] == "2026-09-03"
    assert record["run_url"] == f"http://ui/runs/{result.run_id}"


def test_morning_schedule_builds_yesterday_and_today_in_korea() -> None:
    # 21:00 UTC on 10 September is 06:00 KST on 11 September.
    context = build_schedule_context(
        scheduled_execution_time=datetime(2026, 9, 10, 21, 0, tzinfo=UTC)
    )
    request = daily_build_schedule(CALENDAR)(context)
    assert window_of(request) == DeliveryWindow("2026-09-10", "2026-09-11")
    assert request.run_key == "morning:2026-09-11"


def history(days: int, rows: int, end: date) -> dict[str, int]:
    return {(end - timedelta(days=n)).isoformat(): rows for n in range(1, days + 1)}


def landed(*deliveries: str) -> landing.LandingReport:
    report = landing.LandingReport(source="events")
    report.deliveries.extend(deliveries)
    return report


@pytest.mark.parametrize(
    ("rows", "passes"),
    [(100, True), (75, True), (150, True), (480, True), (50, False), (25, False), (520, False)],
)
def test_volume_check_flags_a_day_far_from_its_trailing_median(rows: int, passes: bool) -> None:
    """A flat history of 100 rows a day: a quarter down is noise, and so is growth; half the
    rows, a drop of three quarters, or five times the rows is not."""
    day = date(2026, 9, 30)
    counts = {**history(28, 100, day), day.isoformat(): rows}
    result = volume_result(landed(day.isoformat()), counts)
    assert result.passed is passes
    assert (day.isoformat() in result.metadata["anomalies"].value) is not passes


@pytest.mark.parametrize(("median", "rows", "passes"), [(6, 1, True), (14, 1, False)])
def test_volume_check_leaves_small_counts_to_chance(median: int, rows: int, passes: bool) -> None:
    """1 row against a median of 6 is within 3 square roots of it (chance); against 14 not."""
    day = date(2026, 9, 30)
    counts = {**history(28, median, day), day.isoformat(): rows}
    assert volume_result(landed(day.isoformat()), counts).passed is passes


@pytest.mark.parametrize(
    ("median", "rows", "passes"), [(1, 9, True), (19, 200, True), (20, 200, False)]
)
def test_volume_check_judges_jumps_only_from_twenty_rows(
    median: int, rows: int, passes: bool
) -> None:
    """From 1 row to 9 is chance, not news; ten times a median of 20 is."""
    day = date(2026, 9, 30)
    counts = {**history(28, median, day), day.isoformat(): rows}
    assert volume_result(landed(day.isoformat()), counts).passed is passes


def weekly(weekday_rows: int, weekend_rows: int, end: date, weeks: int = 4) -> dict[str, int]:
    """A history with quiet weekends: `weeks` weeks before `end`."""
    days = [end - timedelta(days=n) for n in range(1, 7 * weeks + 1)]
    return {d.isoformat(): weekend_rows if d.weekday() >= 5 else weekday_rows for d in days}


def test_volume_check_compares_a_day_with_the_same_weekday() -> None:
    saturday, monday = date(2026, 9, 26), date(2026, 9, 28)
    quiet_saturday = {**weekly(1000, 300, saturday), saturday.isoformat(): 310}
    assert volume_result(landed(saturday.isoformat()), quiet_saturday).passed
    quiet_monday = {**weekly(1000, 300, monday), monday.isoformat(): 310}
    result = volume_result(landed(monday.isoformat()), quiet_monday)
    assert (
        not result.passed
        and "same weekday" in result.metadata["anomalies"].value[monday.isoformat()]
    )


def test_volume_check_does_not_flag_ordinary_noise() -> None:
    """Days drawn around 1000 rows (±15 %, weekends at 40 %): none of 8 weeks is flagged,
    while the same history with one day at a quarter of its weekday is."""
    import random

    noise = random.Random(7)
    end = date(2026, 9, 30)
    days = [end - timedelta(days=n) for n in range(56, -1, -1)]
    counts = {
        d.isoformat(): round((400 if d.weekday() >= 5 else 1000) * noise.uniform(0.85, 1.15))
        for d in days
    }
    assert volume_result(landed(*counts), counts).passed
    dropped = {**counts, end.isoformat(): counts[end.isoformat()] // 4}
    assert not volume_result(landed(end.isoformat()), dropped).passed


def test_volume_check_needs_two_weeks_of_history() -> None:
    day = date(2026, 9, 30)
    counts = {**history(13, 100, day), day.isoformat(): 1}
    assert volume_result(landed(day.isoformat()), counts).passed
    counts = {**history(14, 100, day), day.isoformat(): 1}
    assert not volume_result(landed(day.isoformat()), counts).passed


def test_freshness_check_passes_for_recent_and_fails_for_old_or_no_deliveries(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DONGNE_FRESHNESS_DAYS", "2")
    monkeypatch.setenv("DONGNE_TODAY", "2031-02-28")  # any date: the check asks clock.py
    assert freshness_result({"2031-02-26": 5}, judged=True).passed
    stale = freshness_result({"2031-02-25": 5}, judged=True)
    assert not stale.passed and stale.metadata["lag_days"].value == 3
    assert stale.description == (
        "the newest delivery (2031-02-25) is 3 days old, more than the 2 days allowed"
    )
    assert not freshness_result({}, judged=True).passed


def test_freshness_is_reported_but_not_judged_on_a_build_by_hand(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Old files built by hand (the shipped sample) are not late files: no warning."""
    monkeypatch.setenv("DONGNE_TODAY", "2031-02-28")
    by_hand = freshness_result({"2030-12-01": 5}, judged=False)
    assert by_hand.passed and by_hand.metadata["lag_days"].value == 89
    assert by_hand.description.startswith("the newest delivery (2030-12-01) is 89 days old;")
