"""A dbt model picked alone (the UI's "Materialize selected") builds that model and its
tests only, and is recorded as its materialisation and its check results: what the pieces
of dagster-dbt the code location borrows from outside its public API do for us
(orchestration/assets/dagster_dbt_private.py), on the release they are pinned to."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import dagster_dbt
import pytest
from dagster import (
    AssetKey,
    DagsterEventType,
    ExecuteInProcessResult,
    execute_job,
    instance_for_test,
    reconstructable,
)

from orchestration.assets.dagster_dbt_private import DAGSTER_DBT_VERSION, check_key_for_test
from orchestration.dbt_cli import runs_dir
from orchestration.definitions import build_definitions
from tests.test_blocking_and_retry import (
    QUIET,
    build_everything_from_environment,
    materializations,
    platform_copy_in_process,
)

REPO = Path(__file__).resolve().parents[1]
PICKED = AssetKey(["marts", "dim_regions"])


def test_dagster_dbt_is_the_release_the_borrowed_pieces_are_written_for() -> None:
    pins = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    (pin,) = [p for p in pins if re.match(r"dagster-dbt\b", p)]
    assert pin == f"dagster-dbt=={DAGSTER_DBT_VERSION}"
    assert dagster_dbt.__version__ == DAGSTER_DBT_VERSION


@pytest.mark.slow
def test_a_model_picked_alone_builds_it_and_its_tests_only(
    sample_raw_dir: Path,
    sample_build: tuple[Path, ExecuteInProcessResult],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    platform_copy_in_process(sample_raw_dir, sample_build[0], tmp_path, monkeypatch)
    from orchestration.settings import load_settings

    settings = load_settings()
    job = reconstructable(build_everything_from_environment)
    with instance_for_test() as instance:
        with execute_job(job, instance=instance, run_config=QUIET, asset_selection=[PICKED]) as run:
            assert run.success
            run_id = run.dagster_run.run_id
        # Dagster records the picked model, and nothing else, as built ...
        assert set(materializations(instance, run_id)) == {PICKED.to_user_string()}
        checked = {
            r.event_log_entry.dagster_event.event_specific_data.asset_check_key
            for r in instance.get_records_for_run(
                run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION
            ).records
        }
    # ... because dbt ran exactly that model and the tests that read it.
    (target,) = runs_dir(settings).glob(f"dongne_dbt_models-{run_id}-*")
    results = json.loads((target / "run_results.json").read_text())["results"]
    ran = {r["unique_id"] for r in results if not r["unique_id"].startswith("operation.")}
    manifest = json.loads((target / "manifest.json").read_text())
    (model,) = [
        uid
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] == "model" and node["name"] == PICKED.path[-1]
    ]
    its_tests = {
        uid
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] == "test" and model in node["depends_on"]["nodes"]
    }
    assert its_tests, "the picked model has tests"
    assert ran == {model, *its_tests}
    # Each of its tests that is an asset check reported a result on the picked model.
    dbt_models = build_definitions(settings).get_assets_def(PICKED)
    expected = {check_key_for_test(dbt_models, uid) for uid in its_tests} - {None}
    assert expected and checked == expected
