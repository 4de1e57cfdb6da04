"""DONGNE_ENGINE: one setting picks the engine; a wrong value, or Spark without its
pieces, is one sentence that says what to do."""

from __future__ import annotations

import pytest

from orchestration import preflight
from orchestration.resources import DBT_EXECUTABLES, dbt_resource
from orchestration.settings import SettingsError, load_settings


def test_the_engine_picks_the_dbt_target_and_executable() -> None:
    duck = load_settings({"DONGNE_PII_SALT": "s"})
    spark = load_settings({"DONGNE_PII_SALT": "s", "DONGNE_ENGINE": " Spark "})
    assert (duck.engine, spark.engine) == ("duckdb", "spark")
    assert duck.dbt_env()["DONGNE_DBT_TARGET"] == "local"
    assert spark.dbt_env()["DONGNE_DBT_TARGET"] == "spark"
    assert spark.warehouse_location == spark.data_dir / "spark" / "warehouse"
    assert duck.warehouse_location == duck.warehouse_path
    assert dbt_resource("spark").dbt_executable.endswith(DBT_EXECUTABLES["spark"])
    assert dbt_resource("duckdb").dbt_executable.endswith("dbt")


def test_an_unknown_engine_is_one_clear_error() -> None:
    with pytest.raises(SettingsError, match="duckdb, spark"):
        load_settings({"DONGNE_ENGINE": "postgres"})


def test_spark_without_java_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(preflight.shutil, "which", lambda name: None)
    monkeypatch.delenv("JAVA_HOME", raising=False)
    with pytest.raises(preflight.UserError, match="Java 17"):
        preflight.check_spark_is_installed()


def test_spark_without_pyspark_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(preflight, "_has_module", lambda name: name != "pyspark")
    with pytest.raises(preflight.UserError, match=r"needs pyspark.*make run"):
        preflight.check_spark_is_installed()
