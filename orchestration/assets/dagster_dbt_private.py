"""The pieces of dagster-dbt this code location borrows from outside its public API.

dagster-dbt's public route to them is `DbtCliResource.cli(...).stream()`, which runs dbt as
a subprocess of its own. Here dbt runs in this process on DuckDB (no interpreter start per
run) or in dongne-dbt-spark on Spark (orchestration/dbt_invocation.py), so four of
dagster-dbt's own pieces are used directly, from this module and nowhere else:

- the manifest, translator and project an assets definition was built from;
- the dbt selection for the assets and checks a step materialises (all of them, or the
  subset picked in the UI);
- a dbt test's asset check key;
- the mapping of dbt's node results to Dagster outputs and check results.

None of them is exported by `dagster_dbt`, so a release may change them without notice:
dagster-dbt is pinned (`==0.29.27` in pyproject.toml), and tests/test_dbt_subset.py checks
what they do for us (a model picked alone builds it and its tests only, recorded as its
materialisation and its check results; the pin itself is asserted there too).
"""

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from dagster import AssetCheckKey, AssetExecutionContext, AssetsDefinition
from dagster_dbt import DagsterDbtTranslator, DbtProject
from dagster_dbt.asset_utils import (
    DAGSTER_DBT_EXCLUDE_METADATA_KEY,
    DAGSTER_DBT_SELECT_METADATA_KEY,
    get_asset_check_key_for_test,
    get_manifest_and_translator_from_dbt_assets,
    get_subset_selection_for_context,
)
from dagster_dbt.core.dbt_cli_event import DbtCoreCliEventMessage

# The dagster-dbt release these borrowed pieces were written and tested against.
DAGSTER_DBT_VERSION = "0.29.27"


def built_from(
    assets_def: AssetsDefinition,
) -> tuple[Mapping[str, Any], DagsterDbtTranslator, DbtProject | None]:
    """The dbt manifest, translator and project `assets_def` (a @dbt_assets) was built from."""
    return get_manifest_and_translator_from_dbt_assets([assets_def])


def check_key_for_test(assets_def: AssetsDefinition, unique_id: str) -> AssetCheckKey | None:
    """The asset check a dbt test is (None for a test that is not one: a singular test)."""
    manifest, translator, project = built_from(assets_def)
    return get_asset_check_key_for_test(manifest, translator, unique_id, project)


def selection_args(context: AssetExecutionContext) -> list[str]:
    """dbt's --select / --exclude for the assets and checks this step materialises (all of
    them in a build; a subset when one is picked in the UI), as dagster-dbt computes it."""
    manifest, translator, _ = built_from(context.assets_def)
    tags = context.op_execution_context.op.tags
    args, _indirect = get_subset_selection_for_context(
        context=context,
        manifest=manifest,
        select=tags.get(DAGSTER_DBT_SELECT_METADATA_KEY),
        exclude=tags.get(DAGSTER_DBT_EXCLUDE_METADATA_KEY),
        selector=None,
        dagster_dbt_translator=translator,
        current_dbt_indirect_selection_env=None,
    )
    return args


def asset_events(
    context: AssetExecutionContext, results: Sequence[Mapping[str, Any]], target: Path
) -> Iterator[Any]:
    """dbt's node results (dbt's structured log events) as this step's outputs and check
    results, by dagster-dbt's own mapping."""
    manifest, translator, project = built_from(context.assets_def)
    for result in results:
        message = DbtCoreCliEventMessage(raw_event=dict(result), event_history_metadata={})
        yield from message.to_default_asset_events(
            manifest=manifest,
            dagster_dbt_translator=translator,
            context=context,
            target_path=target,
            project=project,
        )
