"""Daily partitions: one per delivery day of the raw directory.

A partition key is a delivery's name: the day folder of the event log
(`events/YYYY-MM-DD/`, the collector's UTC receipt date) and the day file of each
database export (`db/<table>/YYYY-MM-DD.csv`, a KST day). The partitions follow the KST
calendar and include today, so today's folder can be landed (and re-landed as files
arrive) during the day. Event dates in the marts never depend on the delivery: late
events belong to the day they happened (SOURCES.md).

The first partition is the earliest delivery in `DONGNE_RAW_DIR` when the code location
loads (or `DONGNE_PARTITIONS_START`). A run over every partition (`make run`, or a
backfill of the whole range) lands every delivery, including any outside the calendar.
"""

import os
import re
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from dagster import AssetExecutionContext, DailyPartitionsDefinition, PartitionKeyRange
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
)

from orchestration import lake
from orchestration.settings import load_settings

KST = ZoneInfo("Asia/Seoul")
DAY_KEY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
PARTITIONED_SOURCES = ("events", *lake.DB_TABLES)


def today_kst() -> str:
    return datetime.now(KST).date().isoformat()


def delivery_days(raw_dir: Path) -> list[str]:
    """Every dated delivery of every partitioned source, sorted, without repeats."""
    days: set[str] = set()
    for source in PARTITIONED_SOURCES:
        try:
            days |= {key for key in lake.list_deliveries(raw_dir, source) if DAY_KEY.match(key)}
        except lake.RawDirectoryError:
            return []
    return sorted(days)


def first_partition_day(raw_dir: Path) -> str:
    configured = os.environ.get("DONGNE_PARTITIONS_START")
    if configured:
        return configured
    days = delivery_days(raw_dir)
    # Without data yet, a week back leaves room for the first deliveries.
    fallback = (datetime.now(KST).date() - timedelta(days=7)).isoformat()
    return min(days[0], fallback) if days else fallback


DAILY_PARTITIONS = DailyPartitionsDefinition(
    start_date=first_partition_day(load_settings().raw_dir),
    timezone="Asia/Seoul",
    end_offset=1,
    fmt="%Y-%m-%d",
)


def covers_every_partition(key_range: PartitionKeyRange) -> bool:
    keys = DAILY_PARTITIONS.get_partition_keys()
    return bool(keys) and key_range.start <= keys[0] and key_range.end >= keys[-1]


def window_of(context: AssetExecutionContext) -> tuple[str, str] | None:
    """The (first, last) delivery days a run covers; None when it covers all of them."""
    if not context.has_partition_key_range:
        return None
    key_range = context.partition_key_range
    if covers_every_partition(key_range):
        return None
    return key_range.start, key_range.end


def deliveries_in(raw_dir: Path, source: str, window: tuple[str, str] | None) -> list[str] | None:
    """The deliveries of `source` to land for `window` (None: every delivery)."""
    if window is None:
        return None
    first, last = window
    present = lake.list_deliveries(raw_dir, source)
    return [key for key in present if first <= key <= last]


def range_tags(first: str, last: str) -> dict[str, str]:
    """Run tags for one run over the partitions first..last (a single-run backfill)."""
    return {ASSET_PARTITION_RANGE_START_TAG: first, ASSET_PARTITION_RANGE_END_TAG: last}


def full_range_tags() -> dict[str, str]:
    keys = DAILY_PARTITIONS.get_partition_keys()
    return range_tags(keys[0], keys[-1])
