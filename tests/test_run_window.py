"""What a run covers and how dbt is called for it: small pure functions, tested directly.

A run covers a window of deliveries (a partition, a range, or the delivery tags of a day
newer than the calendar) or, without any, every delivery (a full build). dbt gets the
window in its environment, never in --vars (vars are part of dbt's parse state), and a
full build rebuilds the incremental models from scratch.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
    PARTITION_NAME_TAG,
)

from orchestration.dbt_cli import (
    build_args,
    parse_fingerprint,
    prune_old_attempts,
    runs_dir,
    window_env,
)
from orchestration.freshness import (
    add_pending,
    clear_pending,
    load_freshness,
    load_pending,
    newest_delivery,
    rebuilt_relations,
    record_refreshes,
    with_pending,
)
from orchestration.landing import delivery_days
from orchestration.partitions import (
    DELIVERY_FROM_TAG,
    DELIVERY_TO_TAG,
    calendar_bounds,
    window_from_tags,
    window_tags,
)

CALENDAR = ("2026-09-01", "2026-09-30")


def test_a_partition_a_range_and_delivery_tags_name_their_window() -> None:
    assert window_from_tags({PARTITION_NAME_TAG: "2026-09-05"}, CALENDAR) == (
        "2026-09-05",
        "2026-09-05",
    )
    ranged = {
        ASSET_PARTITION_RANGE_START_TAG: "2026-09-03",
        ASSET_PARTITION_RANGE_END_TAG: "2026-09-04",
    }
    assert window_from_tags(ranged, CALENDAR) == ("2026-09-03", "2026-09-04")
    beyond = {DELIVERY_FROM_TAG: "2026-10-02", DELIVERY_TO_TAG: "2026-10-02"}
    assert window_from_tags(beyond, CALENDAR) == ("2026-10-02", "2026-10-02")


def test_no_tags_or_a_range_over_the_whole_calendar_is_a_full_build() -> None:
    assert window_from_tags({}, CALENDAR) is None
    whole = {
        ASSET_PARTITION_RANGE_START_TAG: CALENDAR[0],
        ASSET_PARTITION_RANGE_END_TAG: CALENDAR[1],
    }
    assert window_from_tags(whole, CALENDAR) is None


def test_dbt_gets_a_full_refresh_only_on_a_full_build_and_never_unit_tests_or_vars() -> None:
    full, daily = build_args(None), build_args(("2026-09-05", "2026-09-05"))
    assert full[0] == "build" and "--full-refresh" in full
    assert "--full-refresh" not in daily
    for args in (full, daily):
        assert "--vars" not in args
        assert args[args.index("--exclude-resource-type") + 1] == "unit_test"
        assert args[args.index("--indirect-selection") + 1] == "buildable"


def test_the_window_travels_in_the_environment_and_is_empty_for_a_full_build() -> None:
    assert window_env(("2026-09-03", "2026-09-04")) == {
        "DONGNE_DELIVERY_FROM": "2026-09-03",
        "DONGNE_DELIVERY_TO": "2026-09-04",
    }
    assert window_env(None) == {"DONGNE_DELIVERY_FROM": "", "DONGNE_DELIVERY_TO": ""}


def test_the_parse_depends_on_paths_not_on_the_window_or_the_salt() -> None:
    base = {"DONGNE_WAREHOUSE_PATH": "/a/warehouse.duckdb", "HOME": "/root"}
    same = parse_fingerprint(base)
    assert parse_fingerprint({**base, **window_env(("2026-09-01", "2026-09-02"))}) == same
    assert parse_fingerprint({**base, "DONGNE_PII_SALT": "secret", "HOME": "/x"}) == same
    assert parse_fingerprint({**base, "DONGNE_WAREHOUSE_PATH": "/b/warehouse.duckdb"}) != same


def test_the_calendar_runs_from_the_first_to_the_newest_delivery(tmp_path: Path) -> None:
    for relative in ["events/2026-09-02/a.jsonl", "db/users/2026-09-07.csv", "db/users/x.csv"]:
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text("")
    (tmp_path / "events" / "2026-09-04").mkdir()  # an empty day folder is still a delivery
    days = delivery_days(tmp_path)
    assert days == ["2026-09-02", "2026-09-04", "2026-09-07"]
    assert calendar_bounds(days) == ("2026-09-02", "2026-09-07")
    assert calendar_bounds(days, "2026-08-25") == ("2026-08-25", "2026-09-07")


def test_a_window_outside_the_loaded_calendar_uses_delivery_tags() -> None:
    from orchestration.partitions import CALENDAR as loaded

    inside = window_tags(loaded[1], loaded[1])
    assert inside == {
        ASSET_PARTITION_RANGE_START_TAG: loaded[1],
        ASSET_PARTITION_RANGE_END_TAG: loaded[1],
    }
    assert window_tags("2099-01-01", "2099-01-02") == {
        DELIVERY_FROM_TAG: "2099-01-01",
        DELIVERY_TO_TAG: "2099-01-02",
    }


def test_the_command_line_passes_a_window_to_the_build_and_options_to_metricflow(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from orchestration import cli

    calls: list[object] = []

    def build(_settings: object, window: object, verbose: bool, headline: bool) -> int:
        calls.append((window, verbose, headline))
        return 0

    monkeypatch.setattr(cli, "build", build)
    monkeypatch.setattr(cli, "run_metricflow", lambda settings, args: calls.append(args) or 0)
    monkeypatch.setenv("DONGNE_DATA_DIR", str(tmp_path))
    assert cli.main(["build", "--from", "2026-09-03", "--to", "2026-09-04"]) == 0
    assert cli.main(["build", "--from", "2026-09-03"]) == 0
    assert cli.main(["build"]) == 0
    assert cli.main(["build", "-v"]) == 0
    assert cli.main(["build", "--from", "2026-09-03", "--headline"]) == 0
    assert cli.main(["mf", "query", "--metrics", "dau", "--group-by", "metric_time__day"]) == 0
    assert calls == [
        (("2026-09-03", "2026-09-04"), False, False),
        (("2026-09-03", "2026-09-03"), False, False),
        (None, False, False),
        (None, True, False),
        (("2026-09-03", "2026-09-03"), False, True),
        ["query", "--metrics", "dau", "--group-by", "metric_time__day"],
    ]
    with pytest.raises(SystemExit):
        cli.main(["build", "--metrics", "dau"])


def test_dbt_artifacts_are_kept_a_week_back_from_the_newest_whatever_the_clock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pruning dates both sides with the file system's clock: a process whose clock runs
    a year ahead (faketime, a container) still keeps the run it is about to retry."""
    from tests.conftest import settings_for

    settings = settings_for(tmp_path / "raw", tmp_path / "data")
    newest = time.time()
    ages = {"newest": 0, "six-days": 6, "eight-days": 8}
    for name, days in ages.items():
        folder = runs_dir(settings) / name
        folder.mkdir(parents=True)
        os.utime(folder, (newest - days * 86400, newest - days * 86400))
    monkeypatch.setattr(time, "time", lambda: newest + 365 * 86400)
    prune_old_attempts(settings)
    assert sorted(p.name for p in runs_dir(settings).iterdir()) == ["newest", "six-days"]


def test_a_batch_window_widens_to_what_the_fast_path_owes_and_pays_it(tmp_path: Path) -> None:
    """The near-real-time path owes the sessions its deliveries: any later batch run
    (sensor, schedule, by hand) takes them in, and only a run that covers them clears them."""
    assert with_pending(("2026-09-05", "2026-09-05"), tmp_path) == ("2026-09-05", "2026-09-05")
    add_pending(tmp_path, ("2026-09-03", "2026-09-03"))
    add_pending(tmp_path, ("2026-09-08", "2026-09-08"))
    assert load_pending(tmp_path) == ("2026-09-03", "2026-09-08")
    assert with_pending(("2026-09-05", "2026-09-06"), tmp_path) == ("2026-09-03", "2026-09-08")
    assert with_pending(None, tmp_path) is None  # a full build covers everything anyway
    clear_pending(tmp_path, ("2026-09-04", "2026-09-08"))  # does not cover 09-03
    assert load_pending(tmp_path) == ("2026-09-03", "2026-09-08")
    clear_pending(tmp_path, ("2026-09-03", "2026-09-08"))
    assert load_pending(tmp_path) is None
    add_pending(tmp_path, ("2026-09-03", "2026-09-03"))
    clear_pending(tmp_path, None)
    assert load_pending(tmp_path) is None


def test_freshness_records_each_rebuilt_table_with_the_newest_landed_delivery(
    tmp_path: Path,
) -> None:
    lake = tmp_path / "lake"
    for folder in ("events/2026-09-04", "db/users/2026-09-06", "events/_schema"):
        (lake / folder).mkdir(parents=True)
    assert newest_delivery(lake) == "2026-09-06"
    relations = {"model.dongne.a": ("marts", "a"), "model.dongne.b": ("marts", "b")}

    def result(unique_id: str, status: str) -> dict:
        info = {
            "unique_id": unique_id,
            "node_status": status,
            "node_finished_at": "2026-09-06T01:02:03",
        }
        return {"data": {"node_info": info}}

    rebuilt = rebuilt_relations(
        [
            result("model.dongne.a", "success"),
            result("model.dongne.b", "error"),
            result("test.dongne.x", "pass"),
        ],
        relations,
    )
    assert rebuilt == {"marts.a": "2026-09-06T01:02:03"}
    path = tmp_path / "freshness.json"
    record_refreshes(path, rebuilt, "2026-09-06")
    record_refreshes(path, {"marts.b": "2026-09-07T00:00:00"}, "2026-09-07")
    assert load_freshness(path) == {
        "marts.a": {"refreshed_at_utc": "2026-09-06T01:02:03", "data_through": "2026-09-06"},
        "marts.b": {"refreshed_at_utc": "2026-09-07T00:00:00", "data_through": "2026-09-07"},
    }
