"""The code location loads and reads like the architecture: raw -> staging -> marts -> publish."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from dagster import AssetKey, DagsterInstance, Definitions

from orchestration.definitions import build_definitions
from orchestration.resources import WAREHOUSE_POOL, PlatformResource
from orchestration.runner import DAGSTER_YAML
from orchestration.settings import REPO_ROOT, load_settings
from tests.conftest import settings_for


@pytest.fixture(scope="module")
def defs() -> Definitions:
    """The code location as `dagster dev` loads it (its `@definitions` function)."""
    from orchestration.definitions import defs as load

    return load()


def upstream_closure(graph, key: AssetKey) -> set[AssetKey]:
    seen: set[AssetKey] = set()
    frontier = [key]
    while frontier:
        for parent in graph.get(frontier.pop()).parent_keys:
            if parent not in seen:
                seen.add(parent)
                frontier.append(parent)
    return seen


def test_definitions_load_with_one_asset_per_raw_source(defs: Definitions) -> None:
    graph = defs.resolve_asset_graph()
    raw = {
        key.to_user_string() for key in graph.get_all_asset_keys() if key.path[0].startswith("raw_")
    }
    assert raw == {
        f"raw_{name}"
        for name in [
            "events",
            "users",
            "listings",
            "trades",
            "posts",
            "moderation_labels",
            "experiment_assignments",
            "regions",
            "categories",
            "experiments",
            "incidents",
        ]
    }


def test_lineage_runs_from_raw_files_through_dbt_to_the_published_database(
    defs: Definitions,
) -> None:
    graph = defs.resolve_asset_graph()
    assert (
        AssetKey(["staging", "stg_app__events"])
        in graph.get(AssetKey(["intermediate", "int_events_dated"])).parent_keys
    )
    assert AssetKey("raw_events") in graph.get(AssetKey(["staging", "stg_app__events"])).parent_keys
    upstream_of_publish = upstream_closure(graph, AssetKey("analytics_db"))
    for mart in [
        "fct_daily_active_users",
        "fct_growth_accounting",
        "fct_sessions",
        "fct_daily_marketplace",
    ]:
        assert AssetKey(["marts", mart]) in graph.get(AssetKey("analytics_db")).parent_keys
    assert {
        AssetKey("raw_events"),
        AssetKey("raw_trades"),
        AssetKey("raw_listings"),
    } <= upstream_of_publish


def writers_in_the_warehouse_at_once(dagster_yaml: Path, home: Path) -> int:
    """How many of three writers, each in its own run, the instance configured by
    `dagster_yaml` lets into the warehouse pool at the same time (Dagster's own claim)."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(dagster_yaml.read_text())
    with pytest.MonkeyPatch.context() as patched:
        # As make run and make dev load it: the event log lives under $DAGSTER_HOME.
        patched.setenv("DAGSTER_HOME", str(home))
        return _claims(home)


def _claims(home: Path) -> int:
    with DagsterInstance.from_config(str(home)) as instance:
        storage = instance.event_log_storage
        storage.initialize_concurrency_limit_to_default(WAREHOUSE_POOL)
        claims = [
            storage.claim_concurrency_slot(WAREHOUSE_POOL, f"run-{n}", step)
            for n, step in enumerate(["raw_events", "dongne_dbt_models", "analytics_db"])
        ]
        return sum(claim.is_claimed for claim in claims)


def test_one_writer_holds_the_warehouse_pool_at_a_time(tmp_path: Path) -> None:
    """The instance of `make run` and `make dev` (orchestration/dagster.yaml) admits one
    writer to the pool while another run's writer holds it."""
    assert writers_in_the_warehouse_at_once(DAGSTER_YAML, tmp_path / "home") == 1


def test_daily_schedule_runs_in_korea_time(defs: Definitions) -> None:
    schedule = defs.resolve_schedule_def("daily_build")
    assert schedule.execution_timezone == "Asia/Seoul"
    assert schedule.cron_schedule == "0 6 * * *"


def test_dbt_tests_are_asset_checks_and_landings_have_a_blocking_conservation_check(
    defs: Definitions,
) -> None:
    graph = defs.resolve_asset_graph()
    check_keys = graph.asset_check_keys
    names = {(key.asset_key.to_user_string(), key.name) for key in check_keys}
    assert ("raw_events", "rows_conserved") in names
    assert any(asset == "marts/fct_sessions" and name.startswith("unique") for asset, name in names)


def test_the_near_real_time_job_builds_the_headline_marts_and_publishes_only(
    defs: Definitions,
) -> None:
    job = defs.resolve_job_def("refresh_headline")
    selected = {key.to_user_string() for key in job.asset_layer.selected_asset_keys}
    assert {"marts/fct_daily_active_users", "marts/fct_daily_growth_kpis"} <= selected
    assert {"raw_events", "intermediate/int_events_dated", "analytics_db"} <= selected
    # Sessions, experiments, the ml tables and the classifier wait for the batch run.
    for later in (
        "marts/fct_sessions",
        "intermediate/int_events_sessionized",
        "ml/moderation_training_set",
        "moderation_classifier",
    ):
        assert later not in selected, later
    # A dbt test that reads a table the batch run rebuilds is left to the batch run.
    checks = job.asset_layer.asset_graph.asset_check_keys
    names = {key.name for key in checks}
    assert "assert_sessions_cover_every_valid_event" not in names
    assert any(name.startswith("unique_fct_daily_active_users") for name in names)


def test_the_definitions_honour_the_settings_they_are_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Directories, salt and engine come from the `Settings` passed in, never from the
    environment read again (tests and tools build definitions for other settings)."""
    monkeypatch.setenv("DONGNE_PII_SALT", "the-environment-salt")
    monkeypatch.setenv("DONGNE_ENGINE", "spark")
    given = settings_for(REPO_ROOT / "seeds", load_settings().data_dir)
    platform = build_definitions(given).resources["platform"]
    assert platform.settings() == given
    assert build_definitions(given).resources["dbt"].dbt_executable.endswith("dbt")
    # Spark's settings become Spark's, whatever the environment says.
    monkeypatch.setenv("DONGNE_ENGINE", "duckdb")
    on_spark = replace(given, engine="spark")
    assert PlatformResource.from_settings(on_spark).settings() == on_spark


def test_the_salt_from_the_environment_is_shown_by_name_never_by_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DONGNE_PII_SALT", "a-real-secret")
    settings = load_settings()
    platform = PlatformResource.from_settings(settings)
    shown = platform.get_resource_definition().config_schema.default_value_as_json_str
    assert "DONGNE_PII_SALT" in shown and "a-real-secret" not in shown  # what the UI shows
    assert platform.settings().pii_salt == "a-real-secret"


def test_importing_the_code_location_lists_nothing_and_parses_nothing(tmp_path: Path) -> None:
    """The module only defines; Dagster calls `defs` to load it. The probe forbids listing
    a directory and starting a process (dbt's parse) during the import, then shows it would
    have caught both by loading the definitions under the same probe."""
    probe = """
import pathlib, subprocess, sys
import dagster, dagster_dbt, dagster_dbt.asset_utils, duckdb, pandas, rich  # imports of theirs
def forbidden(*args, **kwargs):
    raise AssertionError("computed at import")
pathlib.Path.glob = pathlib.Path.iterdir = subprocess.run = subprocess.Popen = forbidden
import orchestration.definitions as code_location
print("imported")
try:
    code_location.defs()
except AssertionError:
    print("loading lists or parses")
"""
    env = {
        **os.environ,
        "DONGNE_RAW_DIR": str(REPO_ROOT / "seeds"),
        "DONGNE_DATA_DIR": str(tmp_path / "data"),  # no parse there yet
    }
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO_ROOT, env=env, capture_output=True, text=True
    )
    assert done.stdout.split() == ["imported", "loading", "lists", "or", "parses"], done.stderr
    assert not (tmp_path / "data").exists()
