"""When the platform builds by itself: a morning build, on top of the arrival sensor."""

from datetime import timedelta

from dagster import (
    RunRequest,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    schedule,
)

from orchestration.clock import KST
from orchestration.jobs import build_everything_job
from orchestration.window import Calendar, DeliveryWindow


def morning_window(context: ScheduleEvaluationContext) -> DeliveryWindow:
    """Yesterday and today (KST): yesterday's exports land overnight."""
    today = context.scheduled_execution_time.astimezone(KST).date()
    return DeliveryWindow((today - timedelta(days=1)).isoformat(), today.isoformat())


def daily_build_schedule(calendar: Calendar) -> ScheduleDefinition:
    """The morning build of a code location whose partition calendar is `calendar`."""

    @schedule(
        job=build_everything_job,
        cron_schedule="0 6 * * *",
        execution_timezone="Asia/Seoul",
        name="daily_build",
        description="Every morning at 06:00 KST: yesterday's and today's deliveries in one "
        "run, after the database's daily exports have landed (a safety net under the sensor).",
    )
    def daily_build(context: ScheduleEvaluationContext) -> RunRequest:
        window = morning_window(context)
        return RunRequest(run_key=f"morning:{window.last}", tags=window.run_tags(calendar))

    return daily_build
