"""Shared fixtures and helpers: a small generated delivery built once per session into a
temporary data directory, and helpers to build, copy, query and digest. The suite's own
rules live here too: tests never write into the repository (a data directory and an
artifacts folder of the session's own), the longest modules start first and test_bi
last, and a skipped test fails the suite."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import hypothesis.configuration
import pytest
from dagster import DagsterInstance, ExecuteInProcessResult

from orchestration.runner import run_build
from orchestration.settings import REPO_ROOT, Settings
from orchestration.window import EVERY_DELIVERY, DeliveryWindow

_SESSION_DATA: list[Path] = []
_OWN_DATA = "_DONGNE_TESTS_OWN_DATA_DIR"
ARTIFACTS = "DONGNE_TEST_ARTIFACTS"


def pytest_configure(config: pytest.Config) -> None:
    """Tests never write into the repository: whatever reads the default settings (the
    code location at import, the CLI) gets a data directory of this session's own, and
    Hypothesis keeps its examples and caches beside it."""
    if ARTIFACTS not in os.environ:  # set once, by the main process: workers inherit it
        os.environ[ARTIFACTS] = tempfile.mkdtemp(prefix="dongne-test-artifacts-")
    folder = Path(tempfile.mkdtemp(prefix="dongne-tests-"))
    _SESSION_DATA.append(folder)
    hypothesis.configuration.set_hypothesis_home_dir(str(folder / "hypothesis"))
    # A data directory the user set is theirs to keep; one this hook set (inherited by
    # pytest-xdist's workers) is replaced by each worker's own.
    if "DONGNE_DATA_DIR" not in os.environ or _OWN_DATA in os.environ:
        os.environ["DONGNE_DATA_DIR"] = str(folder / "data")
        os.environ[_OWN_DATA] = "1"


def artifacts_dir() -> Path:
    """Where tests leave what a person may want to look at (UI screenshots, the Dagster
    UI's log): DONGNE_TEST_ARTIFACTS, or a new temporary folder named at the end of the
    session. Never inside the repository."""
    folder = Path(os.environ[ARTIFACTS])
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    folder = Path(os.environ.get(ARTIFACTS, ""))
    if folder.is_dir() and any(folder.iterdir()):
        terminalreporter.write_line(f"test artifacts (screenshots, logs): {folder}")


def pytest_unconfigure(config: pytest.Config) -> None:
    for folder in _SESSION_DATA:
        shutil.rmtree(folder, ignore_errors=True)
    if os.environ.pop(_OWN_DATA, None):
        os.environ.pop("DONGNE_DATA_DIR", None)
    artifacts = Path(os.environ.get(ARTIFACTS, ""))
    main_process = "PYTEST_XDIST_WORKER" not in os.environ  # the last to finish
    if main_process and artifacts.is_dir() and not any(artifacts.iterdir()):
        artifacts.rmdir()  # nothing to look at: no empty folder left behind


# The modules that build the platform several times, longest first. `make test` runs two
# pytest workers, each taking whole modules: starting the long ones first keeps one worker
# from being left with a long module at the end while the other idles.
LONGEST_FIRST = [
    "test_crash_safety",
    "test_ui",
    "test_spark_engine",
    "test_bench",
    "test_incremental",
    "test_blocking_and_retry",
]


# The dashboards' module goes last: `make test` installs the BI tool's environment while
# the suite runs (tests/test_bi.py waits for it), so it is ready by then.
LAST = ["test_bi"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        name = item.path.stem
        if name in LAST:
            return len(LONGEST_FIRST) + 1
        return LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: the order inside each module is kept


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """A skipped test is a failed one: a guarantee whose test did not run is not held (a
    missing browser or engine must fail the suite, never leave it green)."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped:
        report.outcome = "failed"
        report.longrepr = f"skipped, which this suite does not allow: {report.longrepr}"


TEST_SALT = "test-salt"


def settings_for(raw_dir: Path, data_dir: Path, engine: str = "duckdb") -> Settings:
    return Settings(
        raw_dir=raw_dir,
        data_dir=data_dir,
        pii_salt=TEST_SALT,
        pii_salt_is_default=False,
        duckdb_memory_limit="2GB",
        duckdb_threads=2,
        engine=engine,
    )


def build_platform(
    raw_dir: Path,
    data_dir: Path,
    window: DeliveryWindow = EVERY_DELIVERY,
    job_name: str = "build_everything",
    engine: str = "duckdb",
) -> ExecuteInProcessResult:
    """Run the whole `build_everything` job in process (every delivery, or the deliveries
    of `window`; or the near-real-time `refresh_headline` job). The run leaves this
    process's environment as it found it: its settings travel in its definitions."""
    with DagsterInstance.ephemeral() as instance:
        return run_build(
            settings_for(raw_dir, data_dir, engine), instance, window=window, job_name=job_name
        )


def copy_delivery(source: Path, target: Path, day: str, files: str = "*") -> None:
    """Deliver one day: its events files (matching `files`) and its database exports."""
    for path in sorted((source / "events" / day).glob(files)):
        destination = target / "events" / day / path.name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, destination)
    if files == "*":
        for path in sorted(source.glob(f"db/*/{day}.csv*")):
            destination = target / path.relative_to(source)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, destination)


def cli_build(
    raw: Path, data: Path, failpoint: str = "", **extra_env: str
) -> subprocess.CompletedProcess[str]:
    """`make run`'s build in its own process group (what a crash of the machine kills),
    with the test salt and `extra_env` (DONGNE_ENGINE=spark, ...)."""
    env = {
        **os.environ,
        "DONGNE_RAW_DIR": str(raw),
        "DONGNE_DATA_DIR": str(data),
        "DONGNE_PII_SALT": TEST_SALT,
        "DONGNE_DUCKDB_THREADS": "2",
        "DONGNE_DUCKDB_MEMORY_LIMIT": "2GB",
        "DONGNE_FAILPOINT": failpoint,
        "DONGNE_ENGINE": "duckdb",  # whatever the developer's shell says
        **extra_env,
    }
    return subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "build"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        start_new_session=True,
        check=False,
    )


def query(database: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(sql).fetchall()


def copy_build(built: Path, data: Path) -> Path:
    """A copy of a built data directory to build on, without its Dagster instance and temp
    files (a test's runs start from an empty run history)."""
    shutil.copytree(built, data, ignore=shutil.ignore_patterns("dagster_home", "tmp"))
    return data


def copy_platform(raw_dir: Path, built: Path, into: Path) -> tuple[Path, Path]:
    """A copy of a raw delivery and of its build, as `into`/raw and `into`/data, for a
    test that changes either."""
    shutil.copytree(raw_dir, into / "raw")
    return into / "raw", copy_build(built, into / "data")


EVENT_FILES = "events/*/*.jsonl*"


def resend(raw: Path, index: int) -> tuple[Path, Path]:
    """The `index`-th event file (in name order) delivered again, as a collector resends
    one: the original and its copy, `resent-<name>` beside it."""
    original = sorted(raw.glob(EVENT_FILES))[index]
    copy = original.with_name("resent-" + original.name)
    shutil.copy2(original, copy)
    return original, copy


def tree_digest(root: Path, times: bool = True) -> str:
    """A digest of everything under root: each entry's path and kind (file, folder, link),
    mode and modification time, a file's bytes and a link's target. A landing that adds a
    folder or touches a time stamp changes it as surely as one that rewrites a file.
    `times=False` compares two trees written at different moments by their content."""
    assert root.is_dir(), f"{root} is not a directory"
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        stat = path.lstat()
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(f"{stat.st_mode} {stat.st_mtime_ns if times else ''}".encode())
        if path.is_symlink():
            digest.update(os.readlink(path).encode())
        elif path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


LAKE_SOURCES = ("events", "db/users", "db/listings", "db/trades", "db/posts")


def lake_rows_by_file(
    lake: Path, sources: tuple[str, ...] = LAKE_SOURCES
) -> dict[str, list[tuple]]:
    """Per source: each delivered file's rows and distinct lines (a partial delivery has
    fewer, a duplicated one more rows than lines); and every quarantined line."""
    found = {}
    with duckdb.connect() as con:
        for source in sources:
            found[source] = con.execute(f"""
                select _delivery, _file, count(*), count(distinct _line)
                from read_parquet('{lake}/{source}/**/*.parquet', union_by_name = true,
                                  hive_partitioning = false)
                group by all order by all
            """).fetchall()
        found["quarantine"] = con.execute(f"""
            select source, file, line, reason
            from read_parquet('{lake}/quarantine/**/*.parquet', union_by_name = true)
            where source in ({", ".join(f"'{s.split('/')[-1]}'" for s in sources)})
            order by all
        """).fetchall()
    return found


@pytest.fixture(scope="session")
def sample_raw_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small generated delivery (36 days: the generator's minimum; 100 users, so that DAU,
    about 25 a day, is large enough for the metric anomalies to judge)."""
    from dongne_sample import generate

    raw = tmp_path_factory.mktemp("sample") / "raw"
    generate(raw, users=100, days=36, seed=11)
    return raw


@pytest.fixture(scope="session")
def sample_build(
    sample_raw_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, ExecuteInProcessResult]]:
    data_dir = tmp_path_factory.mktemp("sample_data")
    result = build_platform(sample_raw_dir, data_dir)
    assert result.success, "the sample build failed"
    yield data_dir, result
