"""When the platform builds by itself."""

from __future__ import annotations

from dagster import AssetSelection, ScheduleDefinition, define_asset_job

# Everything, raw files to the published database, as one run: the warehouse pool keeps
# its writers in order, and a failed step stops what depends on it.
build_everything_job = define_asset_job(
    name="build_everything",
    selection=AssetSelection.all(),
    description="Land every raw source, build and test the dbt models, publish analytics.duckdb.",
)

daily_build_schedule = ScheduleDefinition(
    name="daily_build",
    job=build_everything_job,
    cron_schedule="0 6 * * *",
    execution_timezone="Asia/Seoul",
    description="Every morning at 06:00 KST, after the database's daily exports have landed.",
)
