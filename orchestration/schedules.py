"""When the platform builds by itself: a morning build, on top of the arrival sensor."""

from datetime import timedelta

from dagster import (
    AssetsDefinition,
    AssetSelection,
    RunRequest,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    define_asset_job,
    in_process_executor,
    schedule,
)
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition
from dagster_dbt import build_dbt_asset_selection

from orchestration.assets.ingest import INGEST_GROUP
from orchestration.assets.transform import (
    HEADLINE_JOB,
    HEADLINE_SELECT,
    checks_beyond_headline,
)
from orchestration.clock import KST
from orchestration.window import Calendar, DeliveryWindow

BATCH_JOB = "build_everything"

# Everything, raw files to the published database, as one run: the warehouse pool keeps
# its writers in order, and a failed step stops what depends on it. Its steps run one
# after another anyway (one writer), so they run in the run's own process: a process per
# step would add its start-up (loading Dagster, dbt and the manifest: 7 s) to every step.
# The executor is the job's own, not run config: a run a sensor or schedule requests
# gets no run config, and the default executor would start a process per step.
build_everything_job = define_asset_job(
    name=BATCH_JOB,
    selection=AssetSelection.all(),
    description="Land raw deliveries, build and test the dbt models, publish analytics.duckdb.",
    executor_def=in_process_executor,
)


# The near-real-time path (the speed layer of a Lambda design): what the arrival sensor runs
# for each new file. It lands the delivery, builds the headline marts (daily active users,
# growth accounting, the marketplace KPIs and the dashboards' marts) and what they are built
# from, with their tests, and publishes: the same dbt models, picked by their dbt tag
# `headline`, never a second copy of the SQL. The other tables follow in the sensor's next
# `build_everything` run of the same deliveries (the batch layer), once arrivals pause;
# `marts.publish_tables` says how fresh each published table is meanwhile.
def refresh_headline_job(dbt_models: AssetsDefinition) -> UnresolvedAssetJobDefinition:
    """The near-real-time job over these dbt assets (selected by their dbt tag)."""
    return define_asset_job(
        name=HEADLINE_JOB,
        selection=AssetSelection.groups(INGEST_GROUP)
        | (
            build_dbt_asset_selection([dbt_models], dbt_select=HEADLINE_SELECT)
            - AssetSelection.checks(*checks_beyond_headline(dbt_models))
        )
        | AssetSelection.assets("analytics_db"),
        description="A new delivery to the headline marts and the dashboards within seconds: "
        "land it, build the dbt models tagged `headline` (and their parents), publish.",
        executor_def=in_process_executor,
    )


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
