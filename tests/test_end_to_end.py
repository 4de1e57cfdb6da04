"""The whole platform on a generated delivery: contract tables and correctness (reruns
changing nothing is proved in test_crash_safety, with analysts reading meanwhile)."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from dagster import AssetKey, ExecuteInProcessResult

from tests import oracle, oracle_ml, oracle_readouts
from tests.conftest import query, settings_for

CONTRACT_COLUMNS = {
    "fct_daily_active_users": ["activity_date", "dau", "wau", "mau"],
    "fct_growth_accounting": [
        "activity_date",
        "new_users",
        "retained_users",
        "resurrected_users",
        "churned_users",
    ],
    "fct_sessions": [
        "session_id",
        "user_key",
        "device_key",
        "session_start_at",
        "session_end_at",
        "session_date",
        "duration_seconds",
        "event_count",
    ],
    "fct_daily_marketplace": ["kpi_date", "listings_created", "completed_trades", "gmv_krw"],
}


def test_build_publishes_every_contract_table_with_its_columns(
    sample_build: tuple[Path, ExecuteInProcessResult],
) -> None:
    data_dir, _ = sample_build
    db = data_dir / "analytics.duckdb"
    for table, columns in CONTRACT_COLUMNS.items():
        published = [
            row[0]
            for row in query(
                db,
                f"""
            select column_name from duckdb_columns()
            where schema_name = 'marts' and table_name = '{table}' order by column_index
        """,
            )
        ]
        assert published[: len(columns)] == columns, table
        assert query(db, f"select count(*) from marts.{table}")[0][0] > 0, table


def test_every_landing_conserves_rows_and_passes_its_check(
    sample_build: tuple[Path, ExecuteInProcessResult],
) -> None:
    _, result = sample_build
    checks = [
        e.event_specific_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    ]
    conservation = [c for c in checks if c.check_name == "rows_conserved"]
    assert len(conservation) == 11  # one per raw source
    assert all(c.passed for c in conservation)
    for event in result.get_asset_materialization_events():
        metadata = event.event_specific_data.materialization.metadata
        if "rows_received" in metadata:
            received = metadata["rows_received"].value
            assert received == metadata["rows_loaded"].value + metadata["rows_quarantined"].value


def test_published_file_is_read_only_and_names_its_publish(
    sample_build: tuple[Path, ExecuteInProcessResult],
) -> None:
    data_dir, _ = sample_build
    db = data_dir / "analytics.duckdb"
    assert db.stat().st_mode & 0o222 == 0
    [(publish_id, tables)] = query(db, "select publish_id, table_count from marts.publish_manifest")
    assert len(publish_id) == 32 and tables >= 4
    assert not list(data_dir.glob(".analytics.duckdb.*"))  # no debris left by the swap


def _close(a: object, b: object) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return a == b


def _rows_match(published: list[tuple], expected: list[tuple]) -> bool:
    return len(published) == len(expected) and all(
        len(p) == len(e) and all(_close(x, y) for x, y in zip(p, e, strict=True))
        for p, e in zip(published, expected, strict=True)
    )


# The four contract tables oracle.marts computes, each by the query that reads it (ordered
# as the oracle's rows; sessions are sorted by the test).
CONTRACT_SELECT = {
    "fct_daily_active_users": "select activity_date, dau, wau, mau "
    "from marts.fct_daily_active_users order by 1",
    "fct_growth_accounting": "select activity_date, new_users, retained_users, "
    "resurrected_users, churned_users from marts.fct_growth_accounting order by 1",
    "fct_sessions": "select user_key, device_key, session_start_at, session_end_at, "
    "session_date, round(duration_seconds, 6), event_count from marts.fct_sessions",
    "fct_daily_marketplace": "select kpi_date, listings_created, completed_trades, gmv_krw "
    "from marts.fct_daily_marketplace order by 1",
}


def contract_mart(table: str) -> Callable[[Path, str], list[tuple]]:
    return lambda raw, salt: oracle.marts(raw, salt)[table]


# Each published table the independent implementation (tests/oracle*.py) computes from
# the raw files: the query that reads it, ordered as the oracle's rows, and the oracle.
ORACLE_CASES: dict[str, tuple[str, Callable[[Path, str], list[tuple]]]] = {
    **{table: (sql, contract_mart(table)) for table, sql in CONTRACT_SELECT.items()},
    "fct_retention_cohorts": (
        "select cohort_week, weeks_since_signup, cohort_users, active_users, retention_rate "
        "from marts.fct_retention_cohorts order by 1, 2",
        lambda raw, salt: oracle.retention(raw),
    ),
    "fct_experiment_results": (
        "select experiment_id, variant, assigned_users, converted_users, conversion_rate, "
        "lift_vs_control, p_value, srm_p_value from marts.fct_experiment_results order by 1, 2",
        lambda raw, salt: oracle.experiments(raw),
    ),
    # docs/marts.md, "Experiment decisions": the lift's interval, Holm's p, the minimum
    # detectable lift, the end date, the guardrail and the decision.
    "fct_experiment_readout": (
        "select experiment_id, variant, lift_ci_low, lift_ci_high, holm_p_value, "
        "minimum_detectable_lift, has_ended, trades_per_user, guardrail_difference, "
        "guardrail_ci_low, guardrail_ci_high, decision from marts.fct_experiment_readout "
        "where not is_control order by 1, 2",
        lambda raw, salt: oracle_readouts.experiment_decisions(raw),
    ),
    # docs/marts.md, "Metric anomalies": the bands and flags.
    "fct_metric_anomalies": (
        "select metric, metric_date, figure, expected, lower_bound, upper_bound, is_anomaly, "
        "direction, incident_id from marts.fct_metric_anomalies order by all",
        oracle_readouts.metric_anomalies,
    ),
    "fct_incident_impact": (
        "select incident_id, actual_trades, actual_gmv_krw, baseline_trades, baseline_gmv_krw, "
        "estimated_lost_trades, estimated_lost_gmv_krw from marts.fct_incident_impact order by 1",
        lambda raw, salt: oracle.incidents(raw),
    ),
    "listing_popularity_features": (
        "select listing_id, created_at, category_id, region_id, price_krw, seller_prior_listings, "
        "seller_prior_completed_trades, seller_account_age_days, views_72h, chats_72h "
        "from ml.listing_popularity_features order by 1",
        lambda raw, salt: oracle_ml.listing_features(raw),
    ),
}


def _in_order(rows: list[tuple]) -> list[tuple]:
    return sorted(rows, key=lambda row: tuple((v is None, v) for v in row))


@pytest.mark.parametrize("table", sorted(ORACLE_CASES))
def test_published_tables_equal_an_independent_implementation(
    table: str, sample_raw_dir: Path, sample_build: tuple[Path, ExecuteInProcessResult]
) -> None:
    """Every row of `table` as the oracle computes it from the raw files (floats within
    1e-9); sessions have no natural order, so both sides are sorted."""
    data_dir, _ = sample_build
    salt = settings_for(sample_raw_dir, data_dir).pii_salt
    sql, compute = ORACLE_CASES[table]
    published = query(data_dir / "analytics.duckdb", sql)
    expected = compute(sample_raw_dir, salt)
    if table == "fct_sessions":
        published, expected = _in_order(published), _in_order(expected)
    assert published, table
    assert _rows_match(published, expected), table


def test_complete_days_and_weeks_equal_the_independent_implementation(
    sample_raw_dir: Path, sample_build: tuple[Path, ExecuteInProcessResult]
) -> None:
    """docs/marts.md, "Complete days": every daily mart says which days are complete, the
    same as the oracle's reading of the deliveries; the sample's newest day is not, the
    days before it are. Retention weeks are over when their last day is complete."""
    data_dir, _ = sample_build
    db = data_dir / "analytics.duckdb"
    expected = sorted(oracle_readouts.day_completeness(sample_raw_dir).items())
    assert expected[-1][1] is False and expected[-2][1] is True
    for table, day in [
        ("fct_daily_active_users", "activity_date"),
        ("fct_growth_accounting", "activity_date"),
        ("fct_daily_marketplace", "kpi_date"),
        ("fct_daily_sessions", "session_date"),
        ("fct_daily_growth_kpis", "activity_date"),
    ]:
        assert query(db, f"select {day}, is_complete from marts.{table} order by 1") == expected
    for table, day in [
        ("fct_daily_marketplace_by_segment", "kpi_date"),
        ("fct_marketplace_segments", "kpi_date"),
        ("fct_event_tracking_daily", "event_date"),
        ("fct_active_user_days", "activity_date"),
    ]:
        shown = query(db, f"select distinct {day}, is_complete from marts.{table} order by 1")
        assert shown and set(shown) <= set(expected), table
    last_complete = max(day for day, complete in expected if complete)
    trades = query(db, "select completed_date, is_complete from marts.fct_completed_trades")
    assert trades and all(complete == (day <= last_complete) for day, complete in trades)
    weeks = query(
        db,
        "select cohort_week, weeks_since_signup, is_period_over from marts.fct_retention_cohorts "
        "order by 1, 2",
    )
    assert weeks == [
        (cohort, n, cohort + timedelta(days=7 * n + 6) <= last_complete)
        for cohort, n, _, _, _ in oracle.retention(sample_raw_dir)
    ]
    assert {over for _, _, over in weeks} == {True, False}


def test_ordinary_data_flags_no_metric_anomaly(
    sample_build: tuple[Path, ExecuteInProcessResult],
) -> None:
    """docs/marts.md, "Metric anomalies", on ordinary data: DAU is judged and nothing is
    flagged (the bands are compared with the oracle's by the parametrised test above; the
    planted drops and spikes: tests/test_planted_deliveries.py)."""
    data_dir, _ = sample_build
    published = query(
        data_dir / "analytics.duckdb", "select metric, is_anomaly from marts.fct_metric_anomalies"
    )
    assert {metric for metric, _ in published} >= {"dau"}
    assert not [row for row in published if row[1]]


def test_moderation_training_set_equals_the_independent_implementation(
    sample_raw_dir: Path, sample_build: tuple[Path, ExecuteInProcessResult]
) -> None:
    data_dir, _ = sample_build
    published = query(
        data_dir / "analytics.duckdb",
        "select target_type, target_id, text, label, split from ml.moderation_training_set",
    )
    expected = oracle_ml.moderation_labels(sample_raw_dir)
    assert {(t, i): (text, label) for t, i, text, label, _ in published} == expected
    splits = [split for *_, split in published]
    assert set(splits) <= {"train", "valid", "test"}
    assert splits.count("train") > len(splits) / 2


def test_seller_key_is_the_contracts_hmac_of_the_seller_id(
    sample_raw_dir: Path, sample_build: tuple[Path, ExecuteInProcessResult]
) -> None:
    data_dir, _ = sample_build
    keys = dict(
        query(
            data_dir / "analytics.duckdb",
            "select listing_id, seller_key from ml.listing_popularity_features",
        )
    )
    sellers = {
        row[0]: row[1]
        for row in oracle.current_rows(
            sample_raw_dir,
            "listings",
            "listing_id",
            oracle.LISTING_INTS,
            ("created_at", "updated_at"),
        ).items()
        for row in [(row[0], row[1]["seller_id"])]
    }
    # The contract's key: hex HMAC-SHA256 of the id's text, keyed with DONGNE_PII_SALT
    # (computed by the oracle with the standard library, not by the platform).
    salt = settings_for(sample_raw_dir, data_dir).pii_salt
    assert len(keys) > 10
    for listing, key in keys.items():
        assert key == oracle.person_key(sellers[listing], salt), listing


def materialization_metadata(result: ExecuteInProcessResult, key: str) -> dict[str, object]:
    (event,) = [
        e
        for e in result.get_asset_materialization_events()
        if e.event_specific_data.materialization.asset_key.to_user_string() == key
    ]
    return dict(event.event_specific_data.materialization.metadata)


def test_materializations_show_row_counts_schemas_previews_and_charts(
    sample_build: tuple[Path, ExecuteInProcessResult],
) -> None:
    data_dir, result = sample_build
    db = data_dir / "analytics.duckdb"
    dau = materialization_metadata(result, "marts/fct_daily_active_users")
    [(rows,)] = query(db, "select count(*) from marts.fct_daily_active_users")
    assert dau["dagster/row_count"].value == rows > 0
    schema = dau["dagster/column_schema"].value
    assert [c.name for c in schema.columns] == [
        *CONTRACT_COLUMNS["fct_daily_active_users"],
        "is_complete",
    ]
    assert all(c.description for c in schema.columns)  # the yml descriptions come along

    published = materialization_metadata(result, "analytics_db")
    [(latest_day, latest_dau)] = query(
        db, "select activity_date, dau from marts.fct_daily_active_users order by 1 desc limit 1"
    )
    [(complete_day, complete_dau)] = query(
        db,
        "select activity_date, dau from marts.fct_daily_active_users where is_complete "
        "order by 1 desc limit 1",
    )
    preview = published["preview_fct_daily_active_users"].value
    assert preview.startswith("| activity_date | dau | wau | mau |")
    assert f"| {latest_day} | {latest_dau} |" in preview.splitlines()[2]  # newest row first
    # The figures plotted across publishes are the last complete day's, never a partial one.
    assert complete_day < latest_day
    assert published["last_complete_day"].value == str(complete_day)
    assert published["last_complete_dau"].value == complete_dau
    chart = published["chart_dau"].value
    assert chart.count("\n") == 14 + 1 and f"{latest_day} (arriving)" in chart and "█" in chart


def test_every_dbt_asset_links_to_its_page_in_the_docs_site() -> None:
    from orchestration.definitions import defs

    dbt_models = defs().get_assets_def(AssetKey(["marts", "fct_daily_active_users"]))
    specs = list(dbt_models.specs)
    links = {spec.key.to_user_string(): spec.metadata["dbt_docs"].value for spec in specs}
    assert links["marts/fct_daily_active_users"].endswith(
        "/#!/model/model.dongne.fct_daily_active_users"
    )
    assert links["intermediate/int_events_dated"].endswith(
        "/#!/model/model.dongne.int_events_dated"
    )
    assert len(links) == len(specs)


def test_published_tables_carry_the_models_descriptions(
    sample_build: tuple[Path, ExecuteInProcessResult],
) -> None:
    """Every published table and column is described (from the models' yml, by the publish
    step), so an analyst reads what a column means where they query it."""
    data_dir, _ = sample_build
    undescribed = query(
        data_dir / "analytics.duckdb",
        """
        select table_name || '.' || column_name from duckdb_columns()
        where schema_name in ('marts', 'ml') and table_name not like 'publish_%'
            and (comment is null or comment = '')
        """,
    )
    tables = query(
        data_dir / "analytics.duckdb",
        "select table_name from duckdb_tables() where schema_name in ('marts', 'ml') "
        "and (comment is null or comment = '')",
    )
    assert undescribed == [] and tables == []


def test_the_volume_checks_see_ordinary_noise_in_the_generated_sample(
    sample_build: tuple[Path, ExecuteInProcessResult],
) -> None:
    """The generated deliveries grow, have weekends and small tables: ordinary volumes,
    which no landing's volume check flags (tests/test_automation.py plants the drops)."""
    _, result = sample_build
    volume = [
        evaluation
        for evaluation in result.get_asset_check_evaluations()
        if evaluation.check_name == "volume_within_normal_range"
    ]
    assert len(volume) >= 5
    flagged = {e.asset_key.to_user_string(): e.description for e in volume if not e.passed}
    assert flagged == {}
