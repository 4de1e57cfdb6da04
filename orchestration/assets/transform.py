"""dbt models as Dagster assets: staging -> intermediate -> marts / ml."""

from collections.abc import Iterator, Mapping
from typing import Any

from dagster import AssetExecutionContext, AssetKey
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)

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


@dbt_assets(
    manifest=DBT_PROJECT.manifest_path,
    project=DBT_PROJECT,
    dagster_dbt_translator=TRANSLATOR,
    pool=WAREHOUSE_POOL,
    name="dongne_dbt_models",
)
def dongne_dbt_models(
    context: AssetExecutionContext, dbt: DbtCliResource, platform: PlatformResource
) -> Iterator[Any]:
    platform.export_dbt_environment()
    yield from dbt.cli(["build"], context=context).stream()
