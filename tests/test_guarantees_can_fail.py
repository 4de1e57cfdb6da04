"""Each guarantee of docs/guarantees.md's table, broken on purpose: its check must fail.

A check that passes on a broken platform proves nothing. For every row of the table
(docs/guarantees.md), one deliberately broken build or fixture runs
through the very check the guarantee's tests use, and the check must catch it; the same
check on the unbroken platform passes, so what fails is the breakage, not the setup.

| guarantee | broken on purpose | the check that catches it |
|---|---|---|
| no row is lost | a CSV reader, an event query that drop a row | the conservation check |
| raw never modified | a landing that rewrites, adds, makes a folder or touches | `tree_digest` |
| a crash never corrupts | the next run skips the swap recovery | the lake against a whole one |
| readers never block | a publish written in place | the publish, with a reader open |
| one writer | a pool limit of 2; an `ml` model writing, not pooled | pool claims; writes seen |
| idempotent | staging without its de-duplication | the build's unique test |
| no personal data | unkeyed or wrong-person keys; a pad written | `key_findings`; secret scans |
| clear errors | a mistake reported as a crash | `unclear` |
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterInstance, ExecuteInProcessResult, asset, materialize

from orchestration import cli, failpoints, landing
from orchestration.assets import publish
from orchestration.assets.ingest import conservation_result
from orchestration.dbt_cli import dbt_environment
from orchestration.landing import events, tables
from orchestration.resources import WAREHOUSE_POOL
from orchestration.runner import DAGSTER_YAML
from orchestration.settings import DBT_PROJECT_DIR, hmac_pads, venv_tool
from orchestration.window import DeliveryWindow
from tests import oracle
from tests.conftest import (
    copy_platform,
    lake_rows_by_file,
    query,
    resend,
    settings_for,
    tree_digest,
)
from tests.test_definitions import writers_in_the_warehouse_at_once
from tests.test_errors import missing_raw, unclear
from tests.test_privacy import column_leaks, file_leaks, key_findings
from tests.writers import (
    pools_of,
    step_windows,
    steps_that_wrote,
    watch_writers,
    writers_outside_the_pool,
)

# -- No row is lost -------------------------------------------------------------------


def drop_a_csv_row(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CSV reader loses one valid row after the file's records were counted."""
    scan = tables._scan_group

    def lossy_scan(
        spec: landing.TableSpec,
        header: list[str],
        group: list,
        con: duckdb.DuckDBPyConnection,
        report: landing.LandingReport,
    ) -> None:
        scan(spec, header, group, con, report)
        con.execute(
            "delete from landed where rowid = (select min(rowid) from landed where reason is null)"
        )

    monkeypatch.setattr(tables, "_scan_group", lossy_scan)


def drop_an_event_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """The event query loses every file's second line after the lines were counted."""
    checked = events._checked_events_sql
    monkeypatch.setattr(events, "_checked_events_sql", lambda: checked() + " where _line <> 2")


def land(source: str, raw: Path, lake: Path) -> landing.LandingReport:
    if source == "events":
        return landing.land_events(raw, lake, landing.connect())
    return landing.land_table(landing.DB_TABLES[source], raw, lake, landing.connect())


@pytest.mark.parametrize(
    ("source", "breakage"), [("users", drop_a_csv_row), ("events", drop_an_event_line)]
)
def test_conservation_fails_when_the_reader_drops_a_row(
    source: str,
    breakage: Callable[[pytest.MonkeyPatch], None],
    sample_raw_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    honest = land(source, sample_raw_dir, tmp_path / "honest")
    assert conservation_result(honest).passed
    breakage(monkeypatch)
    lossy = land(source, sample_raw_dir, tmp_path / "lossy")
    assert lossy.rows_received == honest.rows_received  # counted from the file, not the reader
    assert lossy.rows_loaded < honest.rows_loaded
    assert not conservation_result(lossy).passed


# -- The raw directory is never modified ---------------------------------------------


def rewrite_line_endings(raw: Path) -> None:
    """Normalises a raw file's line endings in place, keeping its time stamps."""
    path = sorted((raw / "db" / "users").glob("*.csv"))[0]
    stat = path.stat()
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def leave_a_marker(raw: Path) -> None:
    """Leaves a hidden 'already landed' marker beside the files."""
    (raw / "db" / "users" / ".landed").write_text("ok")


def make_a_folder(raw: Path) -> None:
    """Creates a scratch folder inside raw (empty: no file changes)."""
    (raw / "db" / "users" / ".landing").mkdir()


def touch_a_file(raw: Path) -> None:
    """Moves a raw file's modification time (its bytes unchanged)."""
    path = sorted((raw / "db" / "users").glob("*.csv"))[0]
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000_000))


@pytest.mark.parametrize(
    "writes_into_raw", [rewrite_line_endings, leave_a_marker, make_a_folder, touch_a_file]
)
def test_the_raw_digest_changes_when_landing_writes_into_raw(
    writes_into_raw: Callable[[Path], None],
    sample_raw_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The landing itself is broken (its listing of the source's files also writes into
    raw), and the digest sees every kind of write: bytes, a new file, a new folder, a time
    stamp."""
    raw = tmp_path / "raw"
    shutil.copytree(sample_raw_dir, raw)
    before = tree_digest(raw)
    land("users", raw, tmp_path / "lake")
    assert tree_digest(raw) == before
    listing = tables.source_files

    def listing_that_writes(raw_dir: Path, source: str) -> list[Path]:
        found = listing(raw_dir, source)
        writes_into_raw(raw_dir)
        return found

    monkeypatch.setattr(tables, "source_files", listing_that_writes)
    land("users", raw, tmp_path / "lake-2")
    assert tree_digest(raw) != before


# -- A crash never corrupts -----------------------------------------------------------


class Killed(BaseException):
    """Stands for SIGKILL: nothing after it runs, no handler catches it."""


def lake_after_a_kill_and_a_one_day_run(
    raw: Path, lake: Path, monkeypatch: pytest.MonkeyPatch, recover: bool
) -> dict[str, list[tuple]]:
    """A whole lake; a full re-landing killed between the two renames of a delivery's
    swap (the old folder moved aside, the new one not yet in); then the next run lands
    only the newest delivery, as a daily run does."""
    landing.land_events(raw, lake, landing.connect())
    swaps = itertools.count(1)

    def kill_at_the_third_swap(name: str) -> None:
        if name == "lake.swap" and next(swaps) == 3:
            raise Killed

    with monkeypatch.context() as patched:
        patched.setattr(failpoints, "reach", kill_at_the_third_swap)
        with pytest.raises(Killed):
            landing.land_events(raw, lake, landing.connect())
    assert list((lake / ".staging").glob("swap-*.json")), "the kill missed the swap"
    newest = landing.list_deliveries(raw, "events")[-1]
    with monkeypatch.context() as patched:
        if not recover:
            patched.setattr(events, "recover_interrupted_swaps", lambda lake_dir: None)
        landing.land_events(raw, lake, landing.connect(), window=DeliveryWindow.days(newest))
    return lake_rows_by_file(lake, ("events",))


def test_the_lake_is_left_short_when_the_next_run_skips_swap_recovery(
    sample_raw_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    landing.land_events(sample_raw_dir, tmp_path / "whole", landing.connect())
    whole = lake_rows_by_file(tmp_path / "whole", ("events",))
    recovered = lake_after_a_kill_and_a_one_day_run(
        sample_raw_dir, tmp_path / "recovered", monkeypatch, recover=True
    )
    assert recovered == whole
    unrecovered = lake_after_a_kill_and_a_one_day_run(
        sample_raw_dir, tmp_path / "unrecovered", monkeypatch, recover=False
    )
    assert len(unrecovered["events"]) < len(whole["events"])  # a delivery is missing


# -- Atomic publish; readers never block a build ---------------------------------------

READER = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
for _ in sys.stdin:
    print(con.execute("select publish_id from marts.publish_manifest").fetchone()[0], flush=True)
"""


def ask(reader: subprocess.Popen[str]) -> str:
    assert reader.stdin is not None and reader.stdout is not None
    reader.stdin.write("?\n")
    reader.stdin.flush()
    return reader.stdout.readline().strip()


def test_a_publish_written_in_place_fails_while_an_analyst_reads(
    sample_build: tuple[Path, ExecuteInProcessResult],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    built, _ = sample_build
    warehouse = shutil.copy(built / "warehouse.duckdb", tmp_path / "warehouse.duckdb")
    target = tmp_path / "analytics.duckdb"
    first = publish.publish_analytics_db(Path(warehouse), target)
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(target)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert ask(reader) == first.publish_id
        with monkeypatch.context() as patched:
            patched.setattr(publish, "staging_path", lambda target, publish_id: target)
            with pytest.raises(duckdb.IOException, match="lock"):
                publish.publish_analytics_db(Path(warehouse), target)
        second = publish.publish_analytics_db(Path(warehouse), target)  # not blocked
        assert ask(reader) == first.publish_id  # the analyst's open file: the old version
        assert query(target, "select publish_id from marts.publish_manifest") == [
            (second.publish_id,)
        ]
    finally:
        reader.kill()
        reader.wait()


# -- One writer -----------------------------------------------------------------------


def test_a_second_writer_gets_in_when_the_pool_admits_two(tmp_path: Path) -> None:
    assert writers_in_the_warehouse_at_once(DAGSTER_YAML, tmp_path / "ours") == 1
    loose = tmp_path / "dagster.yaml"
    text = DAGSTER_YAML.read_text()
    assert "default_limit: 1" in text
    loose.write_text(text.replace("default_limit: 1", "default_limit: 2"))
    assert writers_in_the_warehouse_at_once(loose, tmp_path / "loose") == 2


def test_a_writer_outside_the_pool_is_named(tmp_path: Path) -> None:
    """A model of the `ml` group that writes the warehouse, declared without the pool:
    the watcher of test_one_writer.py sees it write and names it."""
    data = tmp_path / "data"
    data.mkdir()

    @asset(group_name="ml")
    def rogue_scores() -> None:
        with duckdb.connect(str(data / "warehouse.duckdb")) as con:
            con.execute("create table scores as select range as n from range(3000000)")

    @asset(group_name="ml", deps=[rogue_scores])
    def reader_of_the_copy() -> None:
        """Reads (as the classifier does), never writes: not a writer."""
        with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
            con.execute("select sum(n) from scores, range(30)").fetchall()

    with DagsterInstance.ephemeral() as instance:
        with watch_writers([os.getpid()], data) as writes:
            result = materialize([rogue_scores, reader_of_the_copy], instance=instance)
        assert result.success
        wrote = steps_that_wrote(writes, step_windows(instance, result.run_id))
    pools = pools_of([rogue_scores, reader_of_the_copy])
    assert writers_outside_the_pool(wrote, pools, WAREHOUSE_POOL) == ["rogue_scores"]


# -- Idempotent -----------------------------------------------------------------------


def build_event_staging(project: Path, data: Path, raw: Path) -> subprocess.CompletedProcess:
    """dbt builds the staged events from the lake, with their tests (unique event_id)."""
    env = {**os.environ, **dbt_environment(settings_for(raw, data))}
    env["DBT_TARGET_PATH"] = str(data / f"target-{project.name}")
    return subprocess.run(
        [
            *(venv_tool("dbt"), "build", "--select", "stg_app__events", "int_events_dated"),
            *("--full-refresh", "--project-dir", str(project)),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def failed_tests(data: Path, project: Path) -> list[str]:
    results = json.loads((data / f"target-{project.name}" / "run_results.json").read_text())
    return [r["unique_id"] for r in results["results"] if r["status"] in {"fail", "error"}]


def test_a_resent_file_breaks_the_unique_test_when_staging_does_not_deduplicate(
    sample_raw_dir: Path, sample_build: tuple[Path, ExecuteInProcessResult], tmp_path: Path
) -> None:
    raw, data = copy_platform(sample_raw_dir, sample_build[0], tmp_path)
    resend(raw, 3)
    landing.land_events(raw, data / "lake", landing.connect())

    deduplicated = build_event_staging(DBT_PROJECT_DIR, data, raw)
    assert deduplicated.returncode == 0, deduplicated.stdout[-2000:]

    broken = tmp_path / "dbt_project_without_dedup"
    shutil.copytree(DBT_PROJECT_DIR, broken, ignore=shutil.ignore_patterns("target", "logs"))
    macro = broken / "macros" / "app_events.sql"
    text = macro.read_text()
    without = re.sub(r"qualify row_number\(\) over \(.*?\) = 1", "", text, flags=re.S)
    assert without != text
    macro.write_text(without)
    duplicated = build_event_staging(broken, data, raw)
    assert duplicated.returncode != 0
    assert any(".unique_int_events_dated_event_id" in t for t in failed_tests(data, broken))


# -- No personal data; no person re-identified -----------------------------------------


def unkeyed(user_id: object, salt: str) -> str:
    return hashlib.sha256(str(user_id).encode()).hexdigest()


def keyed_with_another_salt(user_id: object, salt: str) -> str:
    return hmac.new(b"another salt", str(user_id).encode(), hashlib.sha256).hexdigest()


@pytest.mark.parametrize("wrong_key", [unkeyed, keyed_with_another_salt])
def test_the_key_check_fails_on_keys_not_keyed_with_the_salt(
    wrong_key: Callable[[object, str], str],
    sample_raw_dir: Path,
    sample_build: tuple[Path, ExecuteInProcessResult],
    tmp_path: Path,
) -> None:
    built, _ = sample_build
    salt = settings_for(sample_raw_dir, built).pii_salt
    database = Path(shutil.copy(built / "analytics.duckdb", tmp_path / "analytics.duckdb"))
    database.chmod(0o644)
    assert key_findings(database, sample_raw_dir, salt) == []
    users = oracle.current_rows(
        sample_raw_dir, "users", "user_id", oracle.USER_INTS, ("signup_at", "updated_at")
    )
    with duckdb.connect(str(database)) as con:
        con.execute("create or replace table marts.dim_users (user_key varchar)")
        con.executemany(
            "insert into marts.dim_users values (?)",
            [[wrong_key(user, salt)] for user in users],
        )
    assert key_findings(database, sample_raw_dir, salt) == [
        "marts.dim_users.user_key: not the contract's keys",
        "marts.dim_users: not one key per current user",
    ]


def test_the_key_check_fails_on_the_key_of_the_wrong_person(
    sample_raw_dir: Path, sample_build: tuple[Path, ExecuteInProcessResult], tmp_path: Path
) -> None:
    """A seller_key made from the buyer's id is a real person's key, keyed with the salt:
    only the row-by-row check (`wrong_person_findings`) sees it."""
    built, _ = sample_build
    salt = settings_for(sample_raw_dir, built).pii_salt
    database = Path(shutil.copy(built / "analytics.duckdb", tmp_path / "analytics.duckdb"))
    database.chmod(0o644)
    with duckdb.connect(str(database)) as con:
        con.execute(
            "update marts.fct_completed_trades set seller_key = buyer_key, buyer_key = seller_key"
        )
    assert key_findings(database, sample_raw_dir, salt) == [
        "marts.fct_completed_trades.seller_key: the key of another person",
        "marts.fct_completed_trades.buyer_key: the key of another person",
    ]


def test_the_secret_scan_finds_a_pad_in_a_log_and_in_a_table(
    sample_raw_dir: Path, sample_build: tuple[Path, ExecuteInProcessResult], tmp_path: Path
) -> None:
    """A pad is as good as the salt: one written into a log (as hex) or into a published
    table is found where the salt would be."""
    built, _ = sample_build
    salt = settings_for(sample_raw_dir, built).pii_salt
    inner, outer = hmac_pads(salt)
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "build.log").write_text(f"setting dongne_hmac_outer = {outer.hex()}\n")
    assert file_leaks([logs], salt)[1] == [f"{logs / 'build.log'}: {outer.hex().encode()[:6]!r}"]
    database = Path(shutil.copy(built / "analytics.duckdb", tmp_path / "analytics.duckdb"))
    database.chmod(0o644)
    assert column_leaks(database, salt) == []
    with duckdb.connect(str(database)) as con:
        con.execute("update marts.dim_categories set category_name = ?", [inner.hex().upper()])
    assert column_leaks(database, salt) == ["analytics.duckdb: marts.dim_categories.category_name"]


# -- Clear errors ---------------------------------------------------------------------


def test_the_clear_error_check_fails_when_a_mistake_is_reported_as_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for variable, value in missing_raw(tmp_path).items():
        monkeypatch.setenv(variable, value)
    expected = "does not exist: set DONGNE_RAW_DIR"
    code = cli.main(["build"])
    assert unclear(code, capsys.readouterr().err, expected) == []

    class NothingRaisesThis(Exception):
        pass

    monkeypatch.setattr(cli, "UserError", NothingRaisesThis)  # the boundary forgets it
    code = cli.main(["build"])
    problems = unclear(code, capsys.readouterr().err, expected)
    assert problems and problems[0] == "exit code 1, not 2"
