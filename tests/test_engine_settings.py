"""DONGNE_ENGINE: one setting picks the engine; a wrong value, or Spark without its
pieces, is one sentence that says what to do."""

from __future__ import annotations

from pathlib import Path

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


def duckdb_profile(values: dict[str, str]) -> dict:
    """The DuckDB target of dbt_project/profiles.yml, its env_var() calls given `values`."""
    import re

    import yaml

    from orchestration.settings import DBT_PROJECT_DIR

    text = (DBT_PROJECT_DIR / "profiles.yml").read_text()
    rendered = re.sub(
        r"\{\{\s*env_var\('(\w+)',\s*'([^']*)'\)\s*\}\}",
        lambda m: values.get(m.group(1), m.group(2)),
        text,
    )
    (profile,) = yaml.safe_load(rendered).values()
    return profile["outputs"]["local"]


def test_a_dbt_run_that_spilled_can_open_its_next_cursor(tmp_path: Path) -> None:
    """dbt-duckdb opens the database with the profile's `config_options` once, then runs
    `SET` for each of its `settings` on every new cursor. DuckDB refuses to set
    temp_directory again once it has spilled there, so a spill in one model failed every
    later one (found at L, dbt-duckdb#600): the profile sets it when the database opens."""
    import duckdb

    target = duckdb_profile({"DONGNE_TMP_DIR": str(tmp_path / "spill")})
    con = duckdb.connect(str(tmp_path / "w.duckdb"), config=dict(target["config_options"]))
    con.execute("set memory_limit = '40MB'; set threads = 1")
    con.execute("create table sorted as select range as i from range(4000000) order by hash(i)")
    with pytest.raises(duckdb.NotImplementedException, match="Cannot switch temporary"):
        con.cursor().execute(f"set temp_directory = '{tmp_path / 'spill'}'")  # it did spill
    cursor = con.cursor()
    for key, value in target["settings"].items():  # what dbt-duckdb does on each cursor
        cursor.execute(f"set {key} = '{value}'")
    assert cursor.execute("select count(*) from sorted").fetchone() == (4000000,)


def test_the_publish_copies_within_duckdbs_limits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The publish's DuckDB has the platform's memory limit, threads and spill folder, as
    landing and dbt do (without them DuckDB takes 80 % of the machine: 4.6 GiB at L)."""
    import duckdb

    from orchestration.assets import publish

    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema marts; create table marts.t as select 1 as n")
    seen: list[tuple[object, ...]] = []
    connect = duckdb.connect

    def recording(*args: object, **kwargs: object) -> duckdb.DuckDBPyConnection:
        con = connect(*args, **kwargs)  # type: ignore[arg-type]
        seen.append(
            con.execute(
                "select current_setting('memory_limit'), current_setting('threads')"
            ).fetchone()
        )
        return con

    monkeypatch.setattr(publish.duckdb, "connect", recording)
    spill = tmp_path / "spill"
    report = publish.publish_analytics_db(
        warehouse, tmp_path / "analytics.duckdb", memory_limit="300MB", threads=1, temp_dir=spill
    )
    assert report.row_counts == {"marts.t": 1}
    assert seen[0] == ("286.1 MiB", 1), seen  # DuckDB shows 300 MB in MiB
    assert spill.is_dir()
