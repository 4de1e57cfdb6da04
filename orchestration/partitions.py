"""Daily partitions, one per delivery day, for daily and late deliveries.

A partition key is a delivery's name: the day folder of the event log
(`events/YYYY-MM-DD/`, the collector's UTC receipt date) and the day file of each
database export (`db/<table>/YYYY-MM-DD.csv`, a KST day). Event dates in the marts never
depend on the delivery: late events belong to the day they happened.

The calendar runs from the earliest to the newest delivery in `DONGNE_RAW_DIR` when the
code location loads (`DONGNE_PARTITIONS_START` moves its start): it follows the data,
never the clock, so the same data gives the same calendar on any day.

A run covers deliveries one of three ways (`window_of`):
- a partition or a range of them (the UI, the arrival sensor, the morning schedule);
- the run tags `dongne/delivery_from` and `dongne/delivery_to`, for a delivery newer
  than the loaded calendar (the sensor sees it before the code location is reloaded);
- neither: a full build of every delivery, as one unpartitioned run whose cost does not
  depend on how many days there are (`make run`, the sensor's first build).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import date, timedelta
from pathlib import Path

from dagster import AssetExecutionContext, DailyPartitionsDefinition
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
    PARTITION_NAME_TAG,
)

from orchestration.clock import today_kst
from orchestration.landing import delivery_days, list_deliveries
from orchestration.settings import load_settings

DELIVERY_FROM_TAG = "dongne/delivery_from"
DELIVERY_TO_TAG = "dongne/delivery_to"

Window = tuple[str, str]


def calendar_bounds(days: list[str], configured_start: str | None = None) -> tuple[str, str]:
    """(first, last) day of the partition calendar for these delivery days.

    Without any delivery yet the calendar is the one day of today (KST): the only place
    the clock sets it, and only until data arrives.
    """
    if not days:
        today = today_kst().isoformat()
        return configured_start or today, max(configured_start or today, today)
    first = min(configured_start, days[0]) if configured_start else days[0]
    return first, days[-1]


def daily_partitions(first: str, last: str) -> DailyPartitionsDefinition:
    end = (date.fromisoformat(last) + timedelta(days=1)).isoformat()
    return DailyPartitionsDefinition(
        start_date=first, end_date=end, timezone="Asia/Seoul", fmt="%Y-%m-%d"
    )


CALENDAR = calendar_bounds(
    delivery_days(load_settings().raw_dir), os.environ.get("DONGNE_PARTITIONS_START") or None
)
DAILY_PARTITIONS = daily_partitions(*CALENDAR)


def window_from_tags(tags: Mapping[str, str], calendar: Window = CALENDAR) -> Window | None:
    """The (first, last) delivery days a run covers, from its tags; None for every delivery.

    Read from the run's tags, not from the step's partition, so the dbt steps (which are
    not partitioned: they follow the run's window) see the same window as the landings.
    A range over the whole calendar is a full build.
    """
    if DELIVERY_FROM_TAG in tags and DELIVERY_TO_TAG in tags:
        return tags[DELIVERY_FROM_TAG], tags[DELIVERY_TO_TAG]
    if PARTITION_NAME_TAG in tags:
        first = last = tags[PARTITION_NAME_TAG]
    elif ASSET_PARTITION_RANGE_START_TAG in tags:
        first, last = tags[ASSET_PARTITION_RANGE_START_TAG], tags[ASSET_PARTITION_RANGE_END_TAG]
    else:
        return None
    if first <= calendar[0] and last >= calendar[1]:
        return None
    return first, last


def window_of(context: AssetExecutionContext) -> Window | None:
    """The (first, last) delivery days this step's run covers; None for every delivery."""
    return window_from_tags(context.run.tags)


def deliveries_in(raw_dir: Path, source: str, window: Window | None) -> list[str] | None:
    """The deliveries of `source` to land for `window` (None: every delivery)."""
    if window is None:
        return None
    first, last = window
    return [key for key in list_deliveries(raw_dir, source) if first <= key <= last]


def range_tags(first: str, last: str) -> dict[str, str]:
    """Run tags for one run over the partitions first..last (a single-run backfill)."""
    return {ASSET_PARTITION_RANGE_START_TAG: first, ASSET_PARTITION_RANGE_END_TAG: last}


def window_tags(first: str, last: str) -> dict[str, str]:
    """Run tags for deliveries first..last: a partition range inside the calendar, else
    the delivery tags (a delivery newer than the loaded calendar)."""
    lo, hi = CALENDAR
    if lo <= first and last <= hi:
        return range_tags(first, last)
    return {DELIVERY_FROM_TAG: first, DELIVERY_TO_TAG: last}
