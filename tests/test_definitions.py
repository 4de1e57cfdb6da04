"""The code location loads and reads like the architecture: raw -> staging -> marts -> publish."""

from __future__ import annotations

from dagster import AssetKey

from orchestration.definitions import defs
from orchestration.resources import WAREHOUSE_POOL


def upstream_closure(graph, key: AssetKey) -> set[AssetKey]:
    seen: set[AssetKey] = set()
    frontier = [key]
    while frontier:
        for parent in graph.get(frontier.pop()).parent_keys:
            if parent not in seen:
                seen.add(parent)
                frontier.append(parent)
    return seen


def test_definitions_load_with_one_asset_per_raw_source() -> None:
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


def test_lineage_runs_from_raw_files_through_dbt_to_the_published_database() -> None:
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


def test_every_writer_of_the_lake_and_warehouse_shares_one_pool() -> None:
    for assets_def in defs.assets:
        for spec in assets_def.specs:
            if spec.group_name in {"ingest", "staging", "intermediate", "marts", "publish"}:
                node = assets_def.node_def
                assert node.pool == WAREHOUSE_POOL, spec.key


def test_daily_schedule_runs_in_korea_time() -> None:
    schedule = defs.resolve_schedule_def("daily_build")
    assert schedule.execution_timezone == "Asia/Seoul"
    assert schedule.cron_schedule == "0 6 * * *"


def test_dbt_tests_are_asset_checks_and_landings_have_a_blocking_conservation_check() -> None:
    graph = defs.resolve_asset_graph()
    check_keys = graph.asset_check_keys
    names = {(key.asset_key.to_user_string(), key.name) for key in check_keys}
    assert ("raw_events", "rows_conserved") in names
    assert any(asset == "marts/fct_sessions" and name.startswith("unique") for asset, name in names)
