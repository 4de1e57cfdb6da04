"""Deliveries with things planted in them, as a manager meets them after one build (one
build serves every test here):

- events outside the tracking plan (docs/sources.md): kept, counted and named by a warning;
- an app outage on one complete day, with its incident in reference/incidents.csv, and a
  burst of users on another (docs/marts.md, "Metric anomalies"): both found, with the
  incident named as the drop's likely cause, nothing else flagged, the same rows as the
  independent implementation, a warning check and one alert each.
"""

from __future__ import annotations

import gzip
import json
import shutil
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path

import pytest
from dagster import AssetCheckSeverity, ExecuteInProcessResult

from orchestration.notify import AnomalyAlert, NotifierResource
from tests import oracle_readouts
from tests.conftest import build_platform, query, settings_for
from tests.test_lake import good

KST = timezone(timedelta(hours=9))
OUTAGE_FROM = time(6)  # the app down from 06:00 KST to the end of the drop day
BURST_USERS = 60  # users the spike day gains (the sample's DAU is about 25)


@dataclass
class Planted:
    raw: Path
    data: Path
    result: ExecuteInProcessResult
    newest: str  # the newest event folder: where the tracking-plan events go
    drop_day: date
    spike_day: date


def judged_days(raw: Path) -> list[date]:
    """Complete days with four earlier same weekdays in the calendar (the oracle's view)."""
    complete = oracle_readouts.day_completeness(raw)
    first = min(complete)
    return sorted(d for d, done in complete.items() if done and d - timedelta(weeks=4) >= first)


def remove_outage(raw: Path, day: date) -> int:
    """Drop every event that happened on `day` from OUTAGE_FROM on, in whatever file it was
    delivered; returns how many."""
    start = datetime.combine(day, OUTAGE_FROM, KST)
    end = datetime.combine(day + timedelta(days=1), time(0), KST)
    removed = 0
    for path in sorted(raw.glob("events/*/*.jsonl*")):
        zipped = path.name.endswith(".gz")
        data = gzip.decompress(path.read_bytes()) if zipped else path.read_bytes()
        kept = []
        for line in data.split(b"\n"):
            try:
                moment = datetime.fromisoformat(json.loads(line)["occurred_at"])
            except (ValueError, KeyError, TypeError):
                moment = None
            if moment is not None and moment.tzinfo is not None and start <= moment < end:
                removed += 1
            else:
                kept.append(line)  # other days, and the sample's bad lines as they are
        data = b"\n".join(kept)
        path.write_bytes(gzip.compress(data) if zipped else data)
    return removed


@pytest.fixture(scope="module")
def planted(sample_raw_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Planted:
    root = tmp_path_factory.mktemp("planted")
    raw = root / "raw"
    shutil.copytree(sample_raw_dir, raw)
    days = judged_days(raw)
    assert len(days) >= 4, days
    drop_day, spike_day = days[-1], days[-3]

    assert remove_outage(raw, drop_day) > 100
    with (raw / "reference" / "incidents.csv").open("a", encoding="utf-8") as sheet:
        sheet.write(
            f"INC-900,{drop_day} {OUTAGE_FROM},{drop_day + timedelta(days=1)} 00:00:00,"
            "app down (planted)\n"
        )
    burst_at = datetime.combine(spike_day, time(12), KST)
    received = burst_at.astimezone(UTC)
    folder = raw / "events" / received.date().isoformat()
    folder.mkdir(exist_ok=True)
    burst = [
        good(
            event_id=f"burst-{n}",
            user_id=900_000 + n,
            device_id=f"burst-device-{n}",
            occurred_at=burst_at.isoformat(),
            received_at=received.isoformat().replace("+00:00", "Z"),
        )
        for n in range(BURST_USERS)
    ]
    (folder / "burst.jsonl").write_text("".join(f"{line}\n" for line in burst), encoding="utf-8")

    newest = sorted(path.name for path in (raw / "events").iterdir())[-1]
    occurred = f"{newest}T12:00:00+09:00"
    plan_received = f"{newest}T03:00:01Z"
    outside_the_plan = [
        good(
            event_id="plan-1",
            event_name="gift_send",
            occurred_at=occurred,
            received_at=plan_received,
        ),
        good(
            event_id="plan-2",
            event_name="listing_view",
            properties={"screen": "home"},  # no listing_id
            occurred_at=occurred,
            received_at=plan_received,
        ),
    ]
    (raw / "events" / newest / "planted.jsonl").write_text(
        "".join(line + "\n" for line in outside_the_plan), encoding="utf-8"
    )
    result = build_platform(raw, root / "data")
    assert result.success  # warnings, not a failed build
    return Planted(raw, root / "data", result, newest, drop_day, spike_day)


def test_events_outside_the_tracking_plan_are_kept_counted_and_named(planted: Planted) -> None:
    """docs/sources.md, the tracking plan: an unknown event name and an event without its
    required property are valid events (loaded, not quarantined), counted per day and
    name in marts.fct_event_tracking_daily, and named by a warning check that leaves the
    build green."""
    rows = query(
        planted.data / "analytics.duckdb",
        f"""
        select event_name, is_planned, event_count, missing_property_count
        from marts.fct_event_tracking_daily
        where event_date = '{planted.newest}' and event_name in ('gift_send', 'listing_view')
        order by event_name
        """,
    )
    (gift, view) = rows
    assert gift[:3] == ("gift_send", False, 1)
    assert view[0:2] == ("listing_view", True) and view[3] == 1
    (check,) = [
        evaluation
        for evaluation in planted.result.get_asset_check_evaluations()
        if evaluation.check_name == "assert_events_follow_the_tracking_plan"
    ]
    assert not check.passed and check.severity == AssetCheckSeverity.WARN
    shown = check.metadata["failing_rows"].value
    assert "gift_send | not in the tracking plan" in shown
    assert "listing_view | missing its required property listing_id" in shown
    assert check.description and "gift_send" in check.description


def test_the_planted_drop_and_spike_are_found_and_nothing_else(planted: Planted) -> None:
    """The outage day is a DAU drop with its incident named as the likely cause, the burst
    day a DAU spike; every other judged day of every metric is ordinary noise and within
    its band; and the whole mart is the independent implementation's."""
    published = query(
        planted.data / "analytics.duckdb",
        "select metric, metric_date, figure, expected, lower_bound, upper_bound, is_anomaly, "
        "direction, incident_id from marts.fct_metric_anomalies order by all",
    )
    flagged = {(row[0], row[1], row[7], row[8]) for row in published if row[6]}
    assert flagged == {
        ("dau", planted.drop_day, "drop", "INC-900"),
        ("dau", planted.spike_day, "spike", None),
    }
    salt = settings_for(planted.raw, planted.data).pii_salt
    expected = oracle_readouts.metric_anomalies(planted.raw, salt)
    assert len(published) == len(expected)
    for mine, theirs in zip(published, expected, strict=True):
        assert mine[:2] == theirs[:2] and mine[6:] == theirs[6:]
        assert all(abs(a - b) < 1e-9 for a, b in zip(mine[2:6], theirs[2:6], strict=True))
    sentences = query(
        planted.data / "analytics.duckdb",
        "select sentence from marts.fct_metric_anomalies where is_anomaly order by metric_date",
    )
    spike, drop = (sentence for (sentence,) in sentences)
    assert (
        f"DAU on {planted.drop_day:%A} {planted.drop_day}" in drop
        and ", below the expected" in drop
    )
    assert "incident INC-900 was open that day" in drop
    assert ", above the expected" in spike


def test_anomalies_warn_in_their_check_and_alert_once_each(planted: Planted) -> None:
    """The warning check names both days; the build alerted each anomaly once, with the
    metric, the day, the figure, the expected range and the Growth dashboard's link; the
    same anomalies seen again by a later build are not sent again."""
    (check,) = [
        evaluation
        for evaluation in planted.result.get_asset_check_evaluations()
        if evaluation.check_name == "assert_no_metric_anomalies_this_week"
    ]
    assert not check.passed and check.severity == AssetCheckSeverity.WARN
    assert str(planted.drop_day) in check.metadata["failing_rows"].value
    assert str(planted.spike_day) in check.metadata["failing_rows"].value

    log = planted.data / "alerts.log"
    alerts = [json.loads(line) for line in log.read_text().splitlines() if '"sentence"' in line]
    assert sorted((a["metric"], a["day"], a["direction"]) for a in alerts) == sorted(
        [("DAU", str(planted.drop_day), "drop"), ("DAU", str(planted.spike_day), "spike")]
    )
    for alert in alerts:
        assert alert["lower_bound"] <= alert["upper_bound"]
        assert not alert["lower_bound"] <= alert["figure"] <= alert["upper_bound"]
        assert alert["dashboard_url"].endswith("/superset/dashboard/growth/")
        assert alert["run_url"] and alert["sentence"].startswith("DAU on ")

    notifier = NotifierResource(alert_log=str(log))
    again = [AnomalyAlert(**{k: v for k, v in a.items() if k != "at"}) for a in alerts]
    assert notifier.send_new_anomalies(again) == []
    assert len(log.read_text().splitlines()) == len(alerts)
