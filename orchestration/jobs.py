"""The platform's two jobs: the batch build of everything, and the near-real-time refresh
of the headline marts. The schedule (schedules.py) and the arrival sensor (sensors.py)
start them; the command line runs either in process (runner.py: `make run` the batch one,
`build --headline` the other)."""

from dagster import AssetsDefinition, AssetSelection, define_asset_job, in_process_executor
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition
from dagster_dbt import build_dbt_asset_selection

from orchestration.assets.dbt_manifest import checks_beyond_headline
from orchestration.assets.ingest import INGEST_GROUP
from orchestration.assets.transform import HEADLINE_JOB, HEADLINE_SELECT

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
