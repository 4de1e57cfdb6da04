"""The platform as a data engineer and an analyst see it, in a real browser.

`dagster dev` (webserver and daemon) runs on 127.0.0.1 against a copy of the sample
build; headless Chromium (Debian's, driven by Playwright) checks the lineage from a raw
source to the published database, launches a materialisation from the UI and sees it
succeed. The daemon's arrival sensor picks up a file dropped in the raw directory and
today's numbers move with no manual step. The dbt docs site shows a model's page and
lineage. Screenshots go to the session's artifacts folder (DONGNE_TEST_ARTIFACTS, named
at the end of the run).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import subprocess
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from dagster import ExecuteInProcessResult

from orchestration.clock import KST
from orchestration.dbt_cli import dbt_environment
from orchestration.settings import DBT_PROJECT_DIR, REPO_ROOT, VENV_BIN
from orchestration.window import DeliveryWindow
from tests.browser import chromium, free_port, playwright_api, stop, wait_for
from tests.conftest import artifacts_dir, copy_build, query, settings_for

BIN = VENV_BIN

pytestmark = pytest.mark.slow


@dataclass
class DagsterUI:
    url: str
    raw: Path
    data: Path
    log: Path

    def graphql(self, text: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        request = urllib.request.Request(
            f"{self.url}/graphql",
            data=json.dumps({"query": text, "variables": variables or {}}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            body = json.loads(response.read())
        assert "errors" not in body, body
        return body["data"]

    def runs(self) -> list[dict[str, Any]]:
        data = self.graphql(
            "{ runsOrError(limit: 50) { ... on Runs { results { runId status jobName "
            "assetSelection { path } tags { key value } } } } }"
        )
        runs = data["runsOrError"]["results"]
        for run in runs:
            run["tags"] = {tag["key"]: tag["value"] for tag in run["tags"]}
        return runs

    def sensor_ticks(self, name: str) -> int:
        data = self.graphql(
            "{ repositoriesOrError { ... on RepositoryConnection { nodes { sensors { name "
            "sensorState { ticks(limit: 5) { status } } } } } } }"
        )
        return sum(
            len(sensor["sensorState"]["ticks"])
            for repository in data["repositoriesOrError"]["nodes"]
            for sensor in repository["sensors"]
            if sensor["name"] == name
        )


@pytest.fixture(scope="module")
def dagster_ui(
    sample_raw_dir: Path,
    sample_build: tuple[Path, ExecuteInProcessResult],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[DagsterUI]:
    built, _ = sample_build
    root = tmp_path_factory.mktemp("ui")
    raw, data, home = root / "raw", root / "data", root / "dagster_home"
    shutil.copytree(sample_raw_dir, raw)
    copy_build(built, data)
    home.mkdir()
    shutil.copyfile(REPO_ROOT / "orchestration" / "dagster.yaml", home / "dagster.yaml")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "DONGNE_RAW_DIR": str(raw),
        "DONGNE_DATA_DIR": str(data),
        "DONGNE_PII_SALT": "test-salt",
        "DONGNE_DUCKDB_THREADS": "2",
        "DONGNE_UI_URL": url,
        "DONGNE_SENSOR_SECONDS": "5",  # the file-drop test waits for ticks, not minutes
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    log = root / "dagster_dev.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [
                *(str(BIN / "dagster"), "dev", "-h", "127.0.0.1", "-p", str(port)),
                *("-m", "orchestration.definitions"),
            ],
            cwd=REPO_ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped as one
        )
    ui = DagsterUI(url=url, raw=raw, data=data, log=log)
    try:

        def serving() -> bool:
            assert process.poll() is None, f"dagster dev exited:\n{log.read_text()[-3000:]}"
            try:
                with urllib.request.urlopen(f"{url}/server_info", timeout=5):
                    return True
            except OSError:
                return False

        wait_for("the Dagster webserver", serving, timeout=180)
        wait_for(
            "the code location",
            lambda: ui.graphql("{ assetNodes { id } }")["assetNodes"],
            timeout=120,
        )
        ui.graphql("mutation { setNuxSeen }")  # the first-visit pop-up
        yield ui
    finally:
        stop(process)
        shutil.copyfile(log, artifacts_dir() / "dagster_dev.log")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    page.set_default_timeout(60_000)
    yield page
    page.close()


def screenshot(page: Any, name: str) -> None:
    page.screenshot(path=str(artifacts_dir() / f"{name}.png"))


def node_x(page: Any, name: str) -> float:
    """The left edge of the asset node showing `name` in a lineage graph."""
    node = page.locator("[class*=assetName]", has_text=name).first
    node.wait_for()
    box = node.bounding_box()
    assert box is not None, f"{name} is not drawn"
    return box["x"]


def test_asset_graph_shows_lineage_from_raw_source_to_published_database(
    dagster_ui: DagsterUI, page: Any
) -> None:
    mart = "marts/fct_daily_active_users"
    page.goto(f"{dagster_ui.url}/assets/{mart}?view=lineage&lineageScope=upstream&lineageDepth=10")
    # Upstream: the raw source, its staging view, the intermediate models, the mart.
    chain = ["raw_events", "stg_app__events", "int_events_dated", "active_users"]
    xs = [node_x(page, name) for name in chain]
    assert xs == sorted(xs) and len(set(xs)) == len(xs), dict(zip(chain, xs, strict=True))
    for group in ["ingest", "staging", "intermediate", "marts"]:
        assert page.get_by_text(group, exact=True).first.is_visible()
    screenshot(page, "lineage_upstream_of_fct_daily_active_users")
    # Downstream: the mart feeds the published analytics database.
    page.goto(f"{dagster_ui.url}/assets/{mart}?view=lineage&lineageScope=downstream")
    assert node_x(page, "active_users") < node_x(page, "analytics_db")
    assert page.get_by_text("publish", exact=True).first.is_visible()
    screenshot(page, "lineage_downstream_of_fct_daily_active_users")


def event_line_now(raw: Path, event_id: str) -> tuple[str, str]:
    """A valid app_open event happening now, by a user of the sample: (line, UTC folder)."""
    sample_line = next(
        line
        for path in sorted(raw.glob("events/*/*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if '"user_id":' in line and '"user_id":null' not in line
    )
    event = json.loads(sample_line)
    now = datetime.now(UTC)
    event.update(
        event_id=event_id,
        event_name="app_open",
        occurred_at=now.astimezone(KST).isoformat(timespec="milliseconds"),
        received_at=now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        properties={},
    )
    return json.dumps(event, ensure_ascii=False), now.date().isoformat()


def run_page_shows_success(page: Any, url: str, run_id: str, name: str) -> None:
    page.goto(f"{url}/runs/{run_id}")
    page.get_by_text("Success", exact=True).first.wait_for(timeout=120_000)
    with contextlib.suppress(playwright_api.TimeoutError):  # a picture with the logs in it
        page.get_by_text("Loading run logs").wait_for(state="detached", timeout=30_000)
    screenshot(page, name)


def test_a_file_dropped_in_the_raw_directory_updates_todays_marts_by_itself(
    dagster_ui: DagsterUI, page: Any
) -> None:
    # The sensor's first tick records what is there (the sample is already published).
    wait_for("the arrival sensor's first tick", lambda: dagster_ui.sensor_ticks("raw_arrival"), 120)
    line, folder = event_line_now(dagster_ui.raw, "evt-ui-test-0001")
    drop = dagster_ui.raw / "events" / folder / "collector-z.jsonl"
    drop.parent.mkdir(parents=True, exist_ok=True)
    drop.write_text(line + "\n", encoding="utf-8")

    def sensor_run() -> dict[str, Any] | None:
        for run in dagster_ui.runs():
            if run["tags"].get("dagster/sensor_name") == "raw_arrival":
                assert run["status"] not in {"FAILURE", "CANCELED"}, (
                    f"the sensor's run failed; see {dagster_ui.log}"
                )
                if run["status"] == "SUCCESS":
                    return run
        return None

    run = wait_for("the sensor's run to succeed", sensor_run, timeout=600, every=5)
    # Today is newer than the calendar `dagster dev` loaded (the sample's last delivery):
    # the same one-day run, named by its window until a reload makes it a partition.
    assert DeliveryWindow.of_run(run["tags"], None) == DeliveryWindow.days(folder)
    today = datetime.now(KST).date()
    (dau,) = query(
        dagster_ui.data / "analytics.duckdb",
        f"select dau from marts.fct_daily_active_users where activity_date = '{today}'",
    )
    assert dau[0] >= 1

    def alerts_of_this_run() -> list[dict[str, Any]]:
        # Other tests' runs (a materialisation from the UI) may have alerted before.
        log = dagster_ui.data / "alerts.log"
        lines = log.read_text().splitlines() if log.exists() else []
        return [a for a in map(json.loads, lines) if a["run_id"] == run["runId"]]

    (success,) = wait_for("the sensor run's success alert", alerts_of_this_run, timeout=120)
    assert success["status"] == "success" and success["partitions"] == folder
    assert success["run_url"] == f"{dagster_ui.url}/runs/{run['runId']}"
    run_page_shows_success(page, dagster_ui.url, run["runId"], "sensor_run_succeeded")


def test_materialize_from_the_ui_succeeds(dagster_ui: DagsterUI, page: Any) -> None:
    before = {run["runId"] for run in dagster_ui.runs()}
    page.goto(f"{dagster_ui.url}/assets/raw_regions")
    # The button's accessible name includes its icon's: match the label itself.
    page.locator("button:has(span:text-is('Materialize'))").first.click()
    page.get_by_text("Launched run").first.wait_for()

    def launched() -> dict[str, Any] | None:
        for run in dagster_ui.runs():
            selection = [key["path"] for key in run["assetSelection"] or []]
            if run["runId"] not in before and ["raw_regions"] in selection:
                return run
        return None

    run = wait_for("the run launched from the UI", launched, timeout=60)
    run_page_shows_success(page, dagster_ui.url, run["runId"], "materialized_from_the_ui")
    statuses = {r["runId"]: r["status"] for r in dagster_ui.runs()}
    assert statuses[run["runId"]] == "SUCCESS"


@pytest.fixture(scope="module")
def docs_site(
    sample_raw_dir: Path,
    sample_build: tuple[Path, ExecuteInProcessResult],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    """`dbt docs generate` against the sample build, served on 127.0.0.1."""
    built, _ = sample_build
    target = tmp_path_factory.mktemp("docs")
    settings = settings_for(sample_raw_dir, built)
    generated = subprocess.run(
        [
            *(str(BIN / "dbt"), "docs", "generate", "--target-path", str(target)),
            *("--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)),
        ],
        env={
            **os.environ,
            **dbt_environment(settings),
            "DBT_LOG_PATH": str(target / "logs"),
            "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        },
        capture_output=True,
        text=True,
        check=False,
    )
    assert generated.returncode == 0, generated.stdout[-3000:]
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(target))
    handler.log_message = lambda *args: None  # type: ignore[method-assign]
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_dbt_docs_show_a_models_page_and_lineage(docs_site: str, page: Any) -> None:
    page.goto(f"{docs_site}/#!/model/model.dongne.fct_daily_active_users")
    page.get_by_text("Daily, weekly and monthly active users").first.wait_for()
    body = page.inner_text("body")
    for expected in ["activity_date", "dau", "wau", "mau", "int_users_daily_active", "Enforced"]:
        assert expected in body, expected
    screenshot(page, "dbt_docs_fct_daily_active_users")
    # The model's lineage graph, opened from its page, full screen.
    page.locator("a[title='View Lineage Graph']").click()
    page.locator(".launcher.on").wait_for(state="attached")
    page.locator("a[title='View Fullscreen']").first.click()
    selection = page.locator("input[ng-model='selectorService.selection.dirty.include']")
    assert selection.input_value() == "+fct_daily_active_users+"
    assert page.locator("#cy canvas").count() > 0
    page.wait_for_timeout(2000)  # the graph's layout settles
    screenshot(page, "dbt_docs_lineage_fct_daily_active_users")
