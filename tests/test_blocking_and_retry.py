"""A failing blocking check stops `publish` and alerts; a re-execution from failure
finishes the job with `dbt retry`, without rebuilding the models that had succeeded."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from dagster import (
    AssetKey,
    DagsterEventType,
    DagsterInstance,
    ExecuteInProcessResult,
    JobDefinition,
    ReexecutionOptions,
    build_run_status_sensor_context,
    execute_job,
    instance_for_test,
    reconstructable,
)

from orchestration import landing
from orchestration.dbt_cli import runs_dir
from orchestration.notify import NotifierResource
from orchestration.runner import prepare_dbt
from orchestration.sensors import alert_on_run_failure
from orchestration.window import DeliveryWindow
from tests.conftest import copy_platform, query

QUIET = {
    "loggers": {"console": {"config": {"log_level": "WARNING"}}},
}
DUPLICATE_REGION_TEST = "unique_stg_reference__regions_region_id"


def build_everything_from_environment() -> JobDefinition:
    """The job as the code location builds it from DONGNE_* (reconstructable: re-execution
    loads it again by this name)."""
    from orchestration.definitions import build_definitions
    from orchestration.settings import load_settings

    return build_definitions(load_settings()).resolve_job_def("build_everything")


def platform_copy_in_process(
    raw_dir: Path, built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, Path]:
    """A copy of a built platform (its raw and data directories), made this process's
    (DONGNE_* set for the test's duration) with dbt's parse prepared for it."""
    raw, data = copy_platform(raw_dir, built, tmp_path)
    for name, value in {
        "DONGNE_RAW_DIR": str(raw),
        "DONGNE_DATA_DIR": str(data),
        "DONGNE_PII_SALT": "test-salt",
        "DONGNE_DUCKDB_THREADS": "2",
    }.items():
        monkeypatch.setenv(name, value)
    from orchestration.settings import load_settings

    prepare_dbt(load_settings())
    return raw, data


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def materializations(instance: DagsterInstance, run_id: str) -> dict[str, dict[str, object]]:
    """Asset key -> metadata of every materialization in a run."""
    records = instance.get_records_for_run(
        run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION
    ).records
    found = {}
    for record in records:
        materialization = record.event_log_entry.asset_materialization
        found[materialization.asset_key.to_user_string()] = {
            name: getattr(value, "value", value) for name, value in materialization.metadata.items()
        }
    return found


def dbt_models_run(step: str, run_id: str) -> dict[str, str]:
    """Model -> status of what dbt ran in a step of a run (from its run_results.json)."""
    from orchestration.settings import load_settings

    (target,) = runs_dir(load_settings()).glob(f"{step}-{run_id}-*")
    results = json.loads((target / "run_results.json").read_text())["results"]
    return {r["unique_id"]: r["status"] for r in results if r["unique_id"].startswith("model.")}


def step_failures(instance: DagsterInstance, run_id: str) -> list[str]:
    records = instance.get_records_for_run(run_id, of_type=DagsterEventType.STEP_FAILURE).records
    return [
        f"{r.event_log_entry.step_key}: {r.event_log_entry.dagster_event.step_failure_data.error}"
        for r in records
    ]


def step_status(instance: DagsterInstance, run_id: str) -> dict[str, str]:
    return {stats.step_key: stats.status.value for stats in instance.get_run_step_stats(run_id)}


@pytest.mark.slow
def test_failing_check_blocks_publish_alerts_and_reexecution_retries_only_the_rest(
    sample_raw_dir: Path,
    sample_build: tuple[Path, ExecuteInProcessResult],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    raw, data = platform_copy_in_process(sample_raw_dir, sample_build[0], tmp_path, monkeypatch)
    published_before = file_digest(data / "analytics.duckdb")
    manifest = "select publish_id from marts.publish_manifest"
    publish_before = query(data / "analytics.duckdb", manifest)

    # The regions sheet arrives with a region twice: `unique` (error severity) fails.
    regions = raw / "reference" / "regions.csv"
    good_regions = regions.read_text(encoding="utf-8")
    first_region = good_regions.splitlines()[1]
    regions.write_text(good_regions + first_region + "\n", encoding="utf-8")

    last_day = sorted(landing.list_deliveries(raw, "events"))[-1]
    job = reconstructable(build_everything_from_environment)
    with instance_for_test() as instance:
        with execute_job(
            job, instance=instance, run_config=QUIET, tags=DeliveryWindow.days(last_day).run_tags()
        ) as failed:
            assert not failed.success
            failed_run = failed.dagster_run
        steps = step_status(instance, failed_run.run_id)
        assert steps["dongne_dbt_models"] == "FAILURE"
        assert steps["raw_events"] == "SUCCESS"
        assert "analytics_db" not in steps or steps["analytics_db"] == "SKIPPED"
        built_first = materializations(instance, failed_run.run_id)
        assert "analytics_db" not in built_first
        # What did build before the failure is recorded (tables with row counts; views,
        # whose count would run their query again, with their columns).
        assert built_first["intermediate/int_users_current"]["dagster/row_count"] > 0
        assert "dagster/column_schema" in built_first["staging/stg_dongne_db__users"]
        assert "marts/dim_regions" not in built_first
        # Yesterday's analytics database stays in place, byte for byte.
        assert file_digest(data / "analytics.duckdb") == published_before

        # The failure sensor sends an alert naming the job, the failed test and the run.
        alert_log = tmp_path / "alerts.log"
        failure_event = (
            instance.get_records_for_run(
                failed_run.run_id, of_type=DagsterEventType.PIPELINE_FAILURE
            )
            .records[0]
            .event_log_entry.dagster_event
        )
        with build_run_status_sensor_context(
            sensor_name="alert_on_run_failure",
            dagster_instance=instance,
            dagster_run=failed_run,
            dagster_event=failure_event,
            resources={"notifier": NotifierResource(alert_log=str(alert_log))},
        ) as context:
            alert_on_run_failure(context.for_run_failure())
        (alert,) = [json.loads(line) for line in alert_log.read_text().splitlines()]
        assert alert["status"] == "failure"
        assert alert["job"] == "build_everything"
        assert alert["partitions"] == last_day
        assert alert["run_url"].endswith(f"/runs/{failed_run.run_id}")
        assert DUPLICATE_REGION_TEST in alert["error"]
        assert "dongne_dbt_models" in alert["error"]

        # Someone fixes the sheet and lands it again; re-execution from failure finishes
        # the job: dbt retry runs what failed or was skipped, not what had succeeded.
        regions.write_text(good_regions, encoding="utf-8")
        with landing.connect() as con:
            landing.land_table(landing.REFERENCE_TABLES["regions"], raw, data / "lake", con)
        with execute_job(
            job,
            instance=instance,
            run_config=QUIET,
            reexecution_options=ReexecutionOptions.from_failure(failed_run.run_id, instance),
        ) as retried:
            retried_id = retried.dagster_run.run_id
            assert retried.success, step_failures(instance, retried_id)
        built_again = materializations(instance, retried_id)
        assert "analytics_db" in built_again
        assert "raw_events" not in step_status(instance, retried_id)
        # dbt ran only what had failed or been skipped: dim_regions, not the models that
        # had succeeded (those are reported as carried over, not rebuilt).
        ran_first = dbt_models_run("dongne_dbt_models", failed_run.run_id)
        ran_again = dbt_models_run("dongne_dbt_models", retried_id)
        succeeded_first = {model for model, status in ran_first.items() if status == "success"}
        assert ran_first["model.dongne.dim_regions"] == "skipped"
        assert ran_again["model.dongne.dim_regions"] == "success"
        assert "model.dongne.stg_dongne_db__users" in succeeded_first
        assert not succeeded_first & set(ran_again)
        assert "dbt_retry" not in built_again["marts/dim_regions"]
        carried = built_again["staging/stg_dongne_db__users"]
        assert str(carried["dbt_retry"]).startswith("not rebuilt")
        assert file_digest(data / "analytics.duckdb") != published_before
        assert query(data / "analytics.duckdb", manifest) != publish_before
        assert instance.get_latest_materialization_event(AssetKey("analytics_db")) is not None
