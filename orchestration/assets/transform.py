"""dbt models as Dagster assets: staging -> intermediate -> marts / ml, with snapshots,
seeds and the semantic layer's time spine, and dbt's data tests as asset checks.

One step runs dbt for a run (`run_dbt`): `dbt build` over the run's window of deliveries
(widened by a batch run to what the near-real-time path owes), or `dbt retry` after a
failure; it records each rebuilt table's freshness, adds row counts, schemas and failing
rows to the events, and alerts the metric anomalies of a build that will publish (those
two in dbt_results.py). The manifest is read in dbt_manifest.py, dagster-dbt's internals
are used in dagster_dbt_private.py, and dbt is invoked by orchestration/dbt_invocation.py.
"""

import graphlib
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import duckdb
from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    Backoff,
    Failure,
    MetadataValue,
    Output,
    RetryPolicy,
)
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)

from orchestration import failpoints, timings
from orchestration.assets.dagster_dbt_private import asset_events, built_from, selection_args
from orchestration.assets.dbt_manifest import (
    RELATION_TYPES,
    manifest_relations,
    relations_by_unique_id,
)
from orchestration.assets.dbt_results import (
    ANOMALIES_MODEL,
    alert_metric_anomalies,
    with_table_metadata,
)
from orchestration.dbt_cli import (
    attempt_dir,
    build_args,
    dbt_environment,
    failure_summary,
    node_results,
    prepare_parse,
    prune_old_attempts,
    runs_dir,
    target_dir,
    unfinished_nodes,
)
from orchestration.dbt_invocation import invoke_dbt
from orchestration.freshness import (
    add_pending,
    clear_pending,
    freshness_path,
    newest_delivery,
    rebuilt_relations,
    record_refreshes,
    with_pending,
)
from orchestration.notify import NotifierResource
from orchestration.observability import docs_url
from orchestration.partitions import window_of
from orchestration.resources import WAREHOUSE_POOL, PlatformResource
from orchestration.settings import DBT_PROJECT_DIR, Settings
from orchestration.window import Calendar

LAYERS = ("staging", "intermediate", "marts", "ml", "semantic")
# The near-real-time path's dbt selection (jobs.refresh_headline_job): the marts tagged
# `headline` and every model they are built from.
HEADLINE_SELECT = "+tag:headline"
HEADLINE_JOB = "refresh_headline"
DBT_ASSETS_NAME = "dongne_dbt_models"


def dbt_project(settings: Settings) -> DbtProject:
    """The dbt project as parsed for `settings` (dbt_cli.prepare_parse)."""
    return DbtProject(
        project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR, target_path=target_dir(settings)
    )


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

    def get_metadata(self, dbt_resource_props: Mapping[str, Any]) -> Mapping[str, Any]:
        metadata = dict(super().get_metadata(dbt_resource_props))
        if dbt_resource_props["resource_type"] in RELATION_TYPES:
            metadata["dbt_docs"] = MetadataValue.url(docs_url(dbt_resource_props["unique_id"]))
        return metadata

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> list[str]:
        return ["team:analytics-engineering"]


TRANSLATOR = DongneTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


# dbt exits non-zero for a failed model or an error-severity test as much as for a
# transient failure (a locked file): retry, but a real failure fails the run after that.
DBT_RETRY = RetryPolicy(max_retries=1, delay=10, backoff=Backoff.EXPONENTIAL)


def previous_attempt(
    context: AssetExecutionContext, settings: Settings, step: str
) -> tuple[Path, bool] | None:
    """The failed dbt invocation this one takes over from, and whether it was in another
    run: an earlier attempt of this step in this run (a retry), or this step in the run
    being re-executed from failure."""
    if context.retry_number > 0:
        earlier = attempt_dir(settings, step, context.run.run_id, context.retry_number - 1)
        if unfinished_nodes(earlier):
            return earlier, False
    parent = context.run.parent_run_id
    if parent:
        attempts = sorted(
            runs_dir(settings).glob(f"{step}-{parent}-*"),
            key=lambda p: int(p.name.rsplit("-", 1)[1]),
        )
        if attempts and unfinished_nodes(attempts[-1]):
            return attempts[-1], True
    return None


def unique_ids_in_build_order(manifest: Mapping[str, Any]) -> dict[AssetKey, str]:
    """Asset key -> unique id of every model, snapshot and seed, parents before children."""
    nodes, parent_map = manifest_relations(manifest)
    order = graphlib.TopologicalSorter(parent_map).static_order()
    return {
        TRANSLATOR.get_asset_key(nodes[unique_id]): unique_id
        for unique_id in order
        if unique_id in nodes
    }


def carried_over(
    context: AssetExecutionContext,
    manifest: Mapping[str, Any],
    retried: set[str],
    previous: Path,
) -> Iterator[Output[None]]:
    """Outputs for this step's models that `dbt retry` does not run because an earlier run
    built them: without them Dagster would skip everything downstream of the step (an
    output not yielded reads as an asset not built). They are marked as not rebuilt and
    come first, parents before children: whatever dbt retries is downstream of them."""
    selected = context.selected_asset_keys
    for key, unique_id in unique_ids_in_build_order(manifest).items():
        if key not in selected or unique_id in retried:
            continue
        yield Output(
            value=None,
            output_name=context.assets_def.get_output_name_for_asset_key(key),
            metadata={
                "unique_id": unique_id,
                "dbt_retry": f"not rebuilt: built before {previous.name} failed",
            },
        )


def run_dbt(
    context: AssetExecutionContext,
    dbt: DbtCliResource,
    platform: PlatformResource,
    notifier: NotifierResource,
    calendar: Calendar,
) -> Iterator[Any]:
    """`dbt build` for this step; after a failure, `dbt retry` of what did not finish.

    Models that succeeded in the failed attempt are not built again: `dbt retry` re-runs
    the previous invocation (same selection, same vars) from its failed and skipped nodes.
    Events are held until dbt exits (see `with_table_metadata`), and yielded even when dbt
    fails, so every model that did build is recorded before the step fails. On DuckDB dbt
    runs in this process; on Spark in `dongne-dbt-spark` (orchestration/dbt_invocation.py).
    """
    settings = platform.settings()
    manifest, _, _ = built_from(context.assets_def)
    headline = context.run.job_name == HEADLINE_JOB
    window = window_of(context, calendar)
    if headline:
        # Owed to the batch layer (a headline run of every delivery owes every delivery).
        add_pending(settings.data_dir, window)
    else:
        widened = with_pending(window, settings.data_dir)
        if widened != window:
            context.log.info(f"dbt: window widened to {widened} (deliveries the batch owed)")
        window = widened
    env = {**dbt_environment(settings), **window.dbt_env()}
    if prepare_parse(settings):
        context.log.info("dbt: parsed the project for this data directory and environment")
    prune_old_attempts(settings)
    step = context.op_execution_context.op_handle.name
    target = attempt_dir(settings, step, context.run.run_id, context.retry_number)
    taken_over = previous_attempt(context, settings, step)
    carried: Iterator[Any] = iter(())
    if taken_over is not None:
        previous, from_parent_run = taken_over
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(previous, target)
        context.log.info(
            f"dbt retry from {previous.name}: {len(unfinished_nodes(previous))} nodes did not "
            "finish there; the rest is not rebuilt"
        )
        args = ["retry"]
        if from_parent_run:
            carried = carried_over(context, manifest, set(unfinished_nodes(previous)), previous)
    else:
        args = [*build_args(window), *selection_args(context)]
    # On a local Spark session dbt runs in the process that owns the session.
    executable = dbt.dbt_executable if settings.engine == "spark" else None
    with timings.phase("dbt"):
        invocation = invoke_dbt(
            args,
            target,
            target_dir(settings),
            env,
            executable=executable,
            # crash-safety tests: killed with dbt mid-run
            on_result=lambda _result: failpoints.reach("dbt.event"),
        )
    with timings.phase("dbt metadata"):
        relations = relations_by_unique_id(manifest)  # read once: freshness and metadata
        record_refreshes(
            freshness_path(settings.data_dir),
            rebuilt_relations(invocation.results, {uid: r[:2] for uid, r in relations.items()}),
            newest_delivery(settings.lake_dir),
        )
        held = [*carried, *asset_events(context, invocation.results, invocation.target)]
        results = node_results(target)
        # The SQL of the tests that found rows, to show the first of them.
        compiled = {
            r["unique_id"]: r.get("compiled_code") or ""
            for r in results
            if r.get("status") in {"fail", "warn"}
        }
        events = list(with_table_metadata(held, platform, relations, compiled))
    yield from events
    built_anomalies = any(
        r.get("unique_id") == ANOMALIES_MODEL and r.get("status") == "success" for r in results
    )
    # Only a build that will publish: after a failed test the dashboards keep the old numbers.
    if invocation.success and built_anomalies:
        try:
            sent = alert_metric_anomalies(settings, notifier, notifier.run_url(context.run.run_id))
        except (OSError, ValueError, duckdb.Error) as error:  # an alert never fails the build
            context.log.warning(f"metric anomalies not alerted: {error}")
        else:
            for alert in sent:
                context.log.warning(f"metric anomaly alerted: {alert.sentence}")
    if invocation.success and not headline:
        clear_pending(settings.data_dir, window)
    if not invocation.success:
        # A failed test is bad data: running it again gives the same answer, so only an
        # error (a locked file, a lost connection, a crash) is worth the retry policy.
        data_failed = any(r.get("status") == "fail" for r in results)
        raise Failure(
            description=failure_summary(target),
            metadata={
                "dbt_target": MetadataValue.path(str(target)),
                **({"dbt_error": MetadataValue.text(invocation.error)} if invocation.error else {}),
            },
            allow_retries=not data_failed,
        )


# One dbt invocation per run: every model, snapshot, seed and data test. Not partitioned:
# the incremental models (tag:daily) follow the run's window of deliveries (a partition, a
# range, or every delivery in a full build), read from the run's tags, and a partitioned
# dbt asset downstream of partitioned landings could not run in the unpartitioned full
# build, whose cost must not grow with the number of days.
def build_dbt_models(settings: Settings, calendar: Calendar) -> AssetsDefinition:
    """The dbt models, snapshots, seeds and tests as Dagster assets and checks (a run's
    window is read in the code location's partition `calendar`).

    The asset graph comes from the parse the runs use (dbt_cli.prepare_parse): `make`
    prepares it, and it is prepared here when missing or stale (the project or the
    environment changed), so `dagster dev` picks up edited models on a reload.
    """
    prepare_parse(settings)
    project = dbt_project(settings)

    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        dagster_dbt_translator=TRANSLATOR,
        pool=WAREHOUSE_POOL,
        retry_policy=DBT_RETRY,
        name=DBT_ASSETS_NAME,
    )
    def dongne_dbt_models(
        context: AssetExecutionContext,
        dbt: DbtCliResource,
        platform: PlatformResource,
        notifier: NotifierResource,
    ) -> Iterator[Any]:
        yield from run_dbt(context, dbt, platform, notifier, calendar)

    return dongne_dbt_models
