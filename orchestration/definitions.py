"""The Dagster code location: assembles assets, checks, jobs, schedules, sensors and
resources.

Nothing is computed when this module is imported: Dagster calls `defs` (a `@definitions`
function) when it loads the code location, and `build_definitions` builds everything from
the `Settings` it is given: the partition calendar from their raw directory, the dbt
assets from the project parsed for their data directory, the resources from their paths,
engine and salt.
"""

from __future__ import annotations

from dagster import Definitions, definitions, in_process_executor

from orchestration.assets.ingest import build_ingest_assets
from orchestration.assets.ml import moderation_classifier
from orchestration.assets.publish import build_analytics_db
from orchestration.assets.transform import build_dbt_models
from orchestration.jobs import build_everything_job, refresh_headline_job
from orchestration.notify import NotifierResource
from orchestration.partitions import calendar_of
from orchestration.resources import PlatformResource, dbt_resource
from orchestration.schedules import daily_build_schedule
from orchestration.sensors import alert_on_run_failure, alert_on_run_success, arrival_sensor
from orchestration.settings import Settings, load_settings


def build_definitions(settings: Settings) -> Definitions:
    """The code location for `settings`: their directories, engine and salt."""
    calendar = calendar_of(settings)
    dbt_models = build_dbt_models(settings, calendar)
    headline_job = refresh_headline_job(dbt_models)
    return Definitions(
        assets=[
            *build_ingest_assets(calendar),
            dbt_models,
            build_analytics_db(dbt_models),
            moderation_classifier,
        ],
        jobs=[build_everything_job, headline_job],
        # Assets materialised from the UI run the same way (the pool serialises them).
        executor=in_process_executor,
        schedules=[daily_build_schedule(calendar)],
        sensors=[
            arrival_sensor([build_everything_job, headline_job], calendar),
            alert_on_run_failure,
            alert_on_run_success,
        ],
        resources={
            "platform": PlatformResource.from_settings(settings),
            "dbt": dbt_resource(settings.engine),
            "notifier": NotifierResource.from_environment(settings.data_dir),
        },
    )


@definitions
def defs() -> Definitions:
    """What `dagster dev` loads: the definitions for the environment's DONGNE_* settings."""
    return build_definitions(load_settings())
