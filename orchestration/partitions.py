"""Daily partitions, one per delivery day, for daily and late deliveries.

A partition key is a delivery's name: the day folder of the event log
(`events/YYYY-MM-DD/`, the collector's UTC receipt date) and the day file of each
database export (`db/<table>/YYYY-MM-DD.csv`, a KST day). Event dates in the marts never
depend on the delivery: late events belong to the day they happened.

The calendar runs from the earliest to the newest delivery in the raw directory when the
code location loads (`DONGNE_PARTITIONS_START` moves its start): it follows the data,
never the clock, so the same data gives the same calendar on any day. It is read when the
definitions are built (`definitions.build_definitions`), never when a module is imported.

What a run covers is a `window.DeliveryWindow`, from the run's tags (`window_of`).
"""

from __future__ import annotations

from datetime import date, timedelta

from dagster import AssetExecutionContext, DailyPartitionsDefinition

from orchestration.clock import today_kst
from orchestration.landing import delivery_days
from orchestration.settings import Settings
from orchestration.window import Calendar, DeliveryWindow


def calendar_bounds(days: list[str], configured_start: str | None = None) -> Calendar:
    """(first, last) day of the partition calendar for these delivery days.

    Without any delivery yet the calendar is the one day of today (KST): the only place
    the clock sets it, and only until data arrives.
    """
    if not days:
        today = today_kst().isoformat()
        return configured_start or today, max(configured_start or today, today)
    first = min(configured_start, days[0]) if configured_start else days[0]
    return first, days[-1]


def calendar_of(settings: Settings) -> Calendar:
    """The partition calendar of `settings`' raw directory (a listing of names: milliseconds)."""
    return calendar_bounds(delivery_days(settings.raw_dir), settings.partitions_start)


def daily_partitions(calendar: Calendar) -> DailyPartitionsDefinition:
    end = (date.fromisoformat(calendar[1]) + timedelta(days=1)).isoformat()
    return DailyPartitionsDefinition(
        start_date=calendar[0], end_date=end, timezone="Asia/Seoul", fmt="%Y-%m-%d"
    )


def window_of(context: AssetExecutionContext, calendar: Calendar) -> DeliveryWindow:
    """The deliveries this step's run covers, in the code location's `calendar`.

    Read from the run's tags, not from the step's partition, so the dbt step (which is not
    partitioned: it follows the run's window) sees the same window as the landings.
    """
    return DeliveryWindow.of_run(context.run.tags, calendar)
