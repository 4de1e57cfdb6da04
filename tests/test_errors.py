"""Clear errors: each mistake a user can make gives one line that says what to do, an
exit code of 2, and never a traceback (what `make run` prints)."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from orchestration import cli
from orchestration.settings import REPO_ROOT

Setup = Callable[[Path], dict[str, str]]


def raw_with_data(root: Path) -> Path:
    raw = root / "raw"
    (raw / "reference").mkdir(parents=True)
    (raw / "reference" / "regions.csv").write_text("region_id,city,district,neighborhood\n")
    return raw


def missing_raw(root: Path) -> dict[str, str]:
    return {"DONGNE_RAW_DIR": str(root / "nowhere"), "DONGNE_DATA_DIR": str(root / "data")}


def raw_is_a_file(root: Path) -> dict[str, str]:
    (root / "raw.csv").write_text("a,b\n")
    return {"DONGNE_RAW_DIR": str(root / "raw.csv"), "DONGNE_DATA_DIR": str(root / "data")}


def raw_without_layout(root: Path) -> dict[str, str]:
    (root / "raw" / "misc").mkdir(parents=True)
    return {"DONGNE_RAW_DIR": str(root / "raw"), "DONGNE_DATA_DIR": str(root / "data")}


def raw_without_files(root: Path) -> dict[str, str]:
    for part in ("events", "db", "reference"):
        (root / "raw" / part).mkdir(parents=True)
    return {"DONGNE_RAW_DIR": str(root / "raw"), "DONGNE_DATA_DIR": str(root / "data")}


def data_is_a_file(root: Path) -> dict[str, str]:
    (root / "data").write_text("not a folder")
    return {"DONGNE_RAW_DIR": str(raw_with_data(root)), "DONGNE_DATA_DIR": str(root / "data")}


def data_inside_raw(root: Path) -> dict[str, str]:
    raw = raw_with_data(root)
    return {"DONGNE_RAW_DIR": str(raw), "DONGNE_DATA_DIR": str(raw / "data")}


def production_without_salt(root: Path) -> dict[str, str]:
    return {
        "DONGNE_RAW_DIR": str(raw_with_data(root)),
        "DONGNE_DATA_DIR": str(root / "data"),
        "DONGNE_ENV": "production",
        "DONGNE_PII_SALT": "",
    }


CASES: list[tuple[str, Setup, str]] = [
    ("missing raw directory", missing_raw, "does not exist: set DONGNE_RAW_DIR"),
    ("raw directory is a file", raw_is_a_file, "is a file, not a folder"),
    ("raw directory without docs/sources.md layout", raw_without_layout, "holds no events/"),
    ("raw directory with no data", raw_without_files, "no data has been delivered yet"),
    ("data directory is a file", data_is_a_file, "DONGNE_DATA_DIR"),
    ("data directory inside the raw directory", data_inside_raw, "inside the raw directory"),
    ("production without a salt", production_without_salt, "DONGNE_PII_SALT is not set"),
]


def unclear(code: int, stderr: str, expected: str) -> list[str]:
    """What keeps a user's mistake from being a clear error: it must exit with 2 and print
    one line (warnings aside) that starts with `error: `, says `expected`, shows no
    traceback and cites only files of the repository."""
    err = stderr.strip().splitlines()
    errors = [line for line in err if not line.startswith("warning:")]
    problems = [] if code == 2 else [f"exit code {code}, not 2"]
    if len(errors) != 1:
        problems.append(f"{len(errors)} error lines: {err[:5]}")
    if not errors or not errors[0].startswith("error: ") or expected not in errors[0]:
        problems.append(f"the error line does not say {expected!r}: {errors[:1]}")
    if "Traceback" in stderr:
        problems.append("a traceback")
    # A rule an error cites is explained in the clone, never in a file outside it.
    for cited in re.findall(r"[\w./-]+\.md", errors[0] if errors else ""):
        if not (REPO_ROOT / cited).is_file():
            problems.append(f"{cited} is not a file of the repository")
    return problems


@pytest.mark.parametrize(("name", "setup", "expected"), CASES, ids=[c[0] for c in CASES])
def test_each_mistake_is_one_actionable_line(
    name: str,
    setup: Setup,
    expected: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for variable in ("DONGNE_ENV", "DONGNE_PII_SALT"):
        monkeypatch.delenv(variable, raising=False)
    for variable, value in setup(tmp_path).items():
        monkeypatch.setenv(variable, value)
    code = cli.main(["build"])
    assert not unclear(code, capsys.readouterr().err, expected)


@pytest.fixture
def warehouse_held_by_another_process(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    data = tmp_path / "data"
    data.mkdir()
    warehouse = data / "warehouse.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time\n"
            f"con = duckdb.connect({str(warehouse)!r})\n"
            "print('holding', flush=True)\n"
            "time.sleep(120)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
    try:
        yield data, holder.pid
    finally:
        holder.kill()
        holder.wait()


def test_a_warehouse_held_by_another_writer_names_the_holder(
    warehouse_held_by_another_process: tuple[Path, int],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    data, pid = warehouse_held_by_another_process
    monkeypatch.setenv("DONGNE_RAW_DIR", str(raw_with_data(tmp_path)))
    monkeypatch.setenv("DONGNE_DATA_DIR", str(data))
    monkeypatch.setenv("DONGNE_PII_SALT", "test-salt")
    started = time.monotonic()
    assert cli.main(["build"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    line = err[0]
    assert line.startswith("error: the warehouse") and f"held by PID {pid}" in line
    assert "analytics.duckdb" in line and time.monotonic() - started < 30


def test_an_unexpected_failure_is_one_line_with_the_traceback_in_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(_settings: object) -> None:
        raise ZeroDivisionError("something nobody planned for")

    monkeypatch.setenv("DONGNE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(cli, "print_summary", broken)
    assert cli.main(["summary"]) == 1
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("error: ZeroDivisionError: something nobody planned for")
    log = Path(line.rsplit(" is in ", 1)[1].rstrip(")"))
    assert log == tmp_path / "data" / "logs" / "last-error.log"  # beside the build's logs
    assert "Traceback" in log.read_text() and "broken" in log.read_text()
