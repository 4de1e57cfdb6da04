"""dbt models as Dagster assets: staging -> intermediate -> marts / ml."""

import json
from collections.abc import Iterator, Mapping
from typing import Any

from dagster import (
    AssetExecutionContext,
    AssetKey,
    BackfillPolicy,
    Backoff,
    RetryPolicy,
)
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)

from orchestration.partitions import DAILY_PARTITIONS, window_of
from orchestration.resources import WAREHOUSE_POOL, PlatformResource
from orchestration.settings import DBT_PROJECT_DIR

DBT_PROJECT = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
# Under `dagster dev` the manifest is rebuilt on load; elsewhere `make` prepares it.
DBT_PROJECT.prepare_if_dev()

LAYERS = ("staging", "intermediate", "marts", "ml")


class DongneTranslator(DagsterDbtTranslator):
    """dbt sources are the ingestion assets; models are grouped by their layer folder."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            meta = dbt_resource_props.get("meta") or {}
            key = meta.get("dagster_asset_key")
            if key:
                return AssetKey(key)
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "snapshot":
            return "snapshots"
        if dbt_resource_props["resource_type"] == "seed":
            return "seeds"
        fqn = dbt_resource_props.get("fqn") or []
        for layer in LAYERS:
            if layer in fqn[1:-1]:
                return layer
        return super().get_group_name(dbt_resource_props)

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> list[str]:
        return ["team:analytics-engineering"]


TRANSLATOR = DongneTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


# dbt exits non-zero for a failed model or an error-severity test as much as for a
# transient failure (a locked file): retry, but a real failure fails the run after that.
DBT_RETRY = RetryPolicy(max_retries=1, delay=10, backoff=Backoff.EXPONENTIAL)
# Models tagged `daily` are incremental: a partition (or a range of them) recomputes only
# what its deliveries touch. Everything else is a table rebuilt from them each run.
DAILY_SELECTION = "tag:daily"
# A test of several models runs in the step that builds the last of them (an identity
# between an incremental model and a mart runs with the marts).
BUILDABLE_TESTS = ["--indirect-selection", "buildable"]


def window_vars(context: AssetExecutionContext) -> list[str]:
    """`--vars` for the incremental models: the deliveries this run covers."""
    window = window_of(context)
    if window is None:
        return []
    first, last = window
    return ["--vars", json.dumps({"delivery_from": first, "delivery_to": last})]


@dbt_assets(
    manifest=DBT_PROJECT.manifest_path,
    project=DBT_PROJECT,
    dagster_dbt_translator=TRANSLATOR,
    select=DAILY_SELECTION,
    partitions_def=DAILY_PARTITIONS,
    # A backfill over any range is one dbt invocation (and one writer of the warehouse).
    backfill_policy=BackfillPolicy.single_run(),
    pool=WAREHOUSE_POOL,
    retry_policy=DBT_RETRY,
    name="dongne_dbt_daily_models",
)
def dongne_dbt_daily_models(
    context: AssetExecutionContext, dbt: DbtCliResource, platform: PlatformResource
) -> Iterator[Any]:
    platform.export_dbt_environment()
    yield from dbt.cli(["build", *BUILDABLE_TESTS, *window_vars(context)], context=context).stream()


@dbt_assets(
    manifest=DBT_PROJECT.manifest_path,
    project=DBT_PROJECT,
    dagster_dbt_translator=TRANSLATOR,
    exclude=DAILY_SELECTION,
    pool=WAREHOUSE_POOL,
    retry_policy=DBT_RETRY,
    name="dongne_dbt_models",
)
def dongne_dbt_models(
    context: AssetExecutionContext, dbt: DbtCliResource, platform: PlatformResource
) -> Iterator[Any]:
    platform.export_dbt_environment()
    yield from dbt.cli(["build", *BUILDABLE_TESTS], context=context).stream()
