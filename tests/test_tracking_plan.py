"""The tracking plan (docs/sources.md): events the app sends outside it, by an unknown
name or without the property the plan requires, are valid events. They are loaded (not
quarantined), counted per day and name in marts.fct_event_tracking_daily, and named by a
warning check that leaves the build green."""

from __future__ import annotations

import shutil
from pathlib import Path

from dagster import AssetCheckSeverity

from tests.conftest import build_platform, query
from tests.test_lake import good


def test_events_outside_the_tracking_plan_are_kept_counted_and_named(
    sample_raw_dir: Path, tmp_path: Path
) -> None:
    """docs/sources.md, the tracking plan: an unknown event name and an event without its
    required property are valid events (loaded, not quarantined), counted per day and
    name in marts.fct_event_tracking_daily, and named by a warning check that leaves the
    build green."""
    raw = tmp_path / "raw"
    shutil.copytree(sample_raw_dir, raw)
    day = sorted(path.name for path in (raw / "events").iterdir())[-1]
    occurred = f"{day}T12:00:00+09:00"
    received = f"{day}T03:00:01Z"
    planted = [
        good(event_id="plan-1", event_name="gift_send", occurred_at=occurred, received_at=received),
        good(
            event_id="plan-2",
            event_name="listing_view",
            properties={"screen": "home"},  # no listing_id
            occurred_at=occurred,
            received_at=received,
        ),
    ]
    (raw / "events" / day / "planted.jsonl").write_text(
        "".join(line + "\n" for line in planted), encoding="utf-8"
    )
    result = build_platform(raw, tmp_path / "data")
    assert result.success  # a warning, not a failed build

    published = tmp_path / "data" / "analytics.duckdb"
    rows = query(
        published,
        f"""
        select event_name, is_planned, event_count, missing_property_count
        from marts.fct_event_tracking_daily
        where event_date = '{day}' and event_name in ('gift_send', 'listing_view')
        order by event_name
        """,
    )
    (gift, view) = rows
    assert gift[:3] == ("gift_send", False, 1)
    assert view[0:2] == ("listing_view", True) and view[3] == 1
    (check,) = [
        evaluation
        for evaluation in result.get_asset_check_evaluations()
        if evaluation.check_name == "assert_events_follow_the_tracking_plan"
    ]
    assert not check.passed and check.severity == AssetCheckSeverity.WARN
    shown = check.metadata["failing_rows"].value
    assert "gift_send | not in the tracking plan" in shown
    assert "listing_view | missing its required property listing_id" in shown
    assert check.description and "gift_send" in check.description
