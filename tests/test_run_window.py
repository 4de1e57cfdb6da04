"""What a run covers and how dbt is called for it: small pure functions, tested directly.

A run covers a `DeliveryWindow`: some deliveries, or every delivery (a full build). It is
written out as a run's tags, as dbt's environment (never in --vars: vars are part of
dbt's parse state) and as the batch layer's debt, and a full build rebuilds the
incremental models from scratch. Also here: the partition calendar, the command line's
options, how long dbt's artifacts are kept, and the freshness record.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
    PARTITION_NAME_TAG,
)

from orchestration.dbt_cli import (
    NOT_PARSE_STATE,
    PARSE_STATE_ENV,
    build_args,
    parse_fingerprint,
    prune_old_attempts,
    runs_dir,
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
from orchestration.partitions import calendar_bounds
from orchestration.settings import DBT_PROJECT_DIR
from orchestration.window import DELIVERY_FROM_TAG, DELIVERY_TO_TAG, DeliveryWindow

CALENDAR = ("2026-09-01", "2026-09-30")
EVERY = DeliveryWindow.every()


def test_a_partition_a_range_and_delivery_tags_name_their_window() -> None:
    of_run = DeliveryWindow.of_run
    assert of_run({PARTITION_NAME_TAG: "2026-09-05"}, CALENDAR) == DeliveryWindow.days("2026-09-05")
    ranged = {
        ASSET_PARTITION_RANGE_START_TAG: "2026-09-03",
        ASSET_PARTITION_RANGE_END_TAG: "2026-09-04",
    }
    assert of_run(ranged, CALENDAR) == DeliveryWindow("2026-09-03", "2026-09-04")
    beyond = {DELIVERY_FROM_TAG: "2026-10-02", DELIVERY_TO_TAG: "2026-10-02"}
    assert of_run(beyond, CALENDAR) == DeliveryWindow.days("2026-10-02")
    # The platform's own tags win over the partition range written beside them.
    both = {**ranged, DELIVERY_FROM_TAG: "2026-09-01", DELIVERY_TO_TAG: "2026-09-04"}
    assert of_run(both, CALENDAR) == DeliveryWindow("2026-09-01", "2026-09-04")


def test_no_tags_or_a_range_over_the_whole_calendar_is_a_full_build() -> None:
    assert DeliveryWindow.of_run({}, CALENDAR) == EVERY
    whole = {
        ASSET_PARTITION_RANGE_START_TAG: CALENDAR[0],
        ASSET_PARTITION_RANGE_END_TAG: CALENDAR[1],
    }
    assert DeliveryWindow.of_run(whole, CALENDAR).is_every
    # Without a calendar (an alert describing a run) a range is just that range.
    assert DeliveryWindow.of_run(whole, None) == DeliveryWindow(*CALENDAR)


def test_a_window_is_written_as_run_tags_and_read_back_the_same() -> None:
    for window in [
        EVERY,
        DeliveryWindow.days("2026-09-05"),
        DeliveryWindow("2026-09-03", "2026-10-02"),
    ]:
        assert DeliveryWindow.of_run(window.run_tags(CALENDAR), CALENDAR) == window
        assert DeliveryWindow.from_json(window.to_json()) == window
    assert EVERY.run_tags(CALENDAR) == {}
    # Inside the calendar the run is also a range of partitions (the UI shows them built).
    assert DeliveryWindow.days("2026-09-30").run_tags(CALENDAR) == {
        DELIVERY_FROM_TAG: "2026-09-30",
        DELIVERY_TO_TAG: "2026-09-30",
        ASSET_PARTITION_RANGE_START_TAG: "2026-09-30",
        ASSET_PARTITION_RANGE_END_TAG: "2026-09-30",
    }
    # A day newer than the calendar the code location loaded is not a partition yet.
    assert DeliveryWindow.days("2026-10-01").run_tags(CALENDAR) == {
        DELIVERY_FROM_TAG: "2026-10-01",
        DELIVERY_TO_TAG: "2026-10-01",
    }


def test_a_window_names_real_days_in_order() -> None:
    for bad in [("2026-09-05", None), ("2026-9-5", "2026-09-06"), ("2026-09-06", "2026-09-05")]:
        with pytest.raises(ValueError):
            DeliveryWindow(*bad)
    window = DeliveryWindow("2026-09-03", "2026-09-05")
    assert [window.covers(day) for day in ("2026-09-02", "2026-09-03", "2026-09-05")] == [
        False,
        True,
        True,
    ]
    assert EVERY.covers("1999-01-01") and EVERY.contains(window) and not window.contains(EVERY)
    assert window.widened(DeliveryWindow.days("2026-09-09")) == DeliveryWindow(
        "2026-09-03", "2026-09-09"
    )
    assert window.widened(EVERY) == EVERY
    assert str(window) == "deliveries 2026-09-03 .. 2026-09-05" and str(EVERY) == "every delivery"


def test_dbt_gets_a_full_refresh_only_on_a_full_build_and_never_unit_tests_or_vars() -> None:
    full, daily = build_args(EVERY), build_args(DeliveryWindow.days("2026-09-05"))
    assert full[0] == "build" and "--full-refresh" in full
    assert "--full-refresh" not in daily
    for args in (full, daily):
        assert "--vars" not in args
        assert args[args.index("--exclude-resource-type") + 1] == "unit_test"
        assert args[args.index("--indirect-selection") + 1] == "buildable"


def test_the_window_travels_in_the_environment_and_is_empty_for_a_full_build() -> None:
    assert DeliveryWindow("2026-09-03", "2026-09-04").dbt_env() == {
        "DONGNE_DELIVERY_FROM": "2026-09-03",
        "DONGNE_DELIVERY_TO": "2026-09-04",
    }
    assert EVERY.dbt_env() == {"DONGNE_DELIVERY_FROM": "", "DONGNE_DELIVERY_TO": ""}


def test_the_parse_depends_on_what_dbt_reads_not_on_the_window_the_salt_or_the_rest() -> None:
    base = {"DONGNE_WAREHOUSE_PATH": "/a/warehouse.duckdb", "HOME": "/root"}
    same = parse_fingerprint(base)
    window = DeliveryWindow("2026-09-01", "2026-09-02").dbt_env()
    assert parse_fingerprint({**base, **window}) == same
    assert parse_fingerprint({**base, "DONGNE_PII_SALT": "secret", "HOME": "/x"}) == same
    # make dev's settings for the sensor and the BI link are not dbt's: one parse for both.
    assert parse_fingerprint({**base, "DONGNE_SENSOR_SECONDS": "5"}) == same
    assert parse_fingerprint({**base, "DONGNE_WAREHOUSE_PATH": "/b/warehouse.duckdb"}) != same
    assert parse_fingerprint({**base, "DBT_PARTIAL_PARSE": "false"}) != same


def test_every_variable_the_dbt_project_reads_is_known_to_the_parse_fingerprint() -> None:
    """A variable a model or profile reads that the fingerprint ignored would leave a
    stale parse in place when it changes."""
    read = set()
    for path in [*DBT_PROJECT_DIR.rglob("*.sql"), *DBT_PROJECT_DIR.rglob("*.yml")]:
        if "target" not in path.parts:
            read |= set(re.findall(r"env_var\(\s*['\"]([A-Z_]+)", path.read_text()))
    assert read and read <= PARSE_STATE_ENV | NOT_PARSE_STATE, read - PARSE_STATE_ENV


def test_the_calendar_runs_from_the_first_to_the_newest_delivery(tmp_path: Path) -> None:
    for relative in ["events/2026-09-02/a.jsonl", "db/users/2026-09-07.csv", "db/users/x.csv"]:
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text("")
    (tmp_path / "events" / "2026-09-04").mkdir()  # an empty day folder is still a delivery
    days = delivery_days(tmp_path)
    assert days == ["2026-09-02", "2026-09-04", "2026-09-07"]
    assert calendar_bounds(days) == ("2026-09-02", "2026-09-07")
    assert calendar_bounds(days, "2026-08-25") == ("2026-08-25", "2026-09-07")


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
        (DeliveryWindow("2026-09-03", "2026-09-04"), False, False),
        (DeliveryWindow.days("2026-09-03"), False, False),
        (EVERY, False, False),
        (EVERY, True, False),
        (DeliveryWindow.days("2026-09-03"), False, True),
        ["query", "--metrics", "dau", "--group-by", "metric_time__day"],
    ]
    with pytest.raises(SystemExit):
        cli.main(["build", "--metrics", "dau"])
    with pytest.raises(SystemExit):
        cli.main(["build", "--from", "2026-09-04", "--to", "2026-09-03"])


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
    day = DeliveryWindow.days
    assert with_pending(day("2026-09-05"), tmp_path) == day("2026-09-05")
    add_pending(tmp_path, day("2026-09-03"))
    add_pending(tmp_path, day("2026-09-08"))
    owed = DeliveryWindow("2026-09-03", "2026-09-08")
    assert load_pending(tmp_path) == owed
    assert with_pending(DeliveryWindow("2026-09-05", "2026-09-06"), tmp_path) == owed
    assert with_pending(EVERY, tmp_path) == EVERY  # a full build covers everything anyway
    clear_pending(tmp_path, DeliveryWindow("2026-09-04", "2026-09-08"))  # not 09-03
    assert load_pending(tmp_path) == owed
    clear_pending(tmp_path, owed)
    assert load_pending(tmp_path) is None
    add_pending(tmp_path, day("2026-09-03"))
    clear_pending(tmp_path, EVERY)
    assert load_pending(tmp_path) is None
    # A headline run of every delivery owes a full build.
    add_pending(tmp_path, EVERY)
    assert with_pending(day("2026-09-05"), tmp_path) == EVERY


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
