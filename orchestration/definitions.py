"""The Dagster code location: assembles assets, checks, jobs, schedules and resources."""

from __future__ import annotations

from dagster import Definitions, in_process_executor

from orchestration.assets.ingest import ingest_assets
from orchestration.assets.ml import moderation_classifier
from orchestration.assets.publish import analytics_db
from orchestration.assets.transform import dongne_dbt_models
from orchestration.notify import NotifierResource
from orchestration.resources import PlatformResource, dbt_resource
from orchestration.schedules import (
    build_everything_job,
    daily_build_schedule,
    refresh_headline_job,
)
from orchestration.sensors import alert_on_run_failure, alert_on_run_success, raw_arrival
from orchestration.settings import Settings, load_settings


def build_definitions(settings: Settings) -> Definitions:
    """The code location, pointed at `settings`' raw and data directories."""
    return Definitions(
        assets=[
            *ingest_assets,
            dongne_dbt_models,
            analytics_db,
            moderation_classifier,
        ],
        jobs=[build_everything_job, refresh_headline_job],
        # Assets materialised from the UI run the same way (the pool serialises them).
        executor=in_process_executor,
        schedules=[daily_build_schedule],
        sensors=[raw_arrival, alert_on_run_failure, alert_on_run_success],
        resources={
            "platform": PlatformResource.from_settings(settings),
            "dbt": dbt_resource(settings.engine),
            "notifier": NotifierResource.from_environment(settings.data_dir),
        },
    )


defs = build_definitions(load_settings())
