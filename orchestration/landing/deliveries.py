"""Which raw files exist, and which delivery (a day folder or day file) each belongs to.

A delivery is what the upstream systems hand over at once: the day folder of the event
log (`events/YYYY-MM-DD/`, the collector's UTC receipt date) and the day file of each
database export (`db/<table>/YYYY-MM-DD.csv[.gz]`, a KST day). Reference sheets belong to
no delivery (""). Nothing here opens a file.
"""

from __future__ import annotations

import re
from pathlib import Path

from orchestration.landing.specs import DB_TABLES
from orchestration.window import DeliveryWindow

DAY_KEY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class RawDirectoryError(RuntimeError):
    """The raw directory cannot be read: the message says what to do."""


def raw_files(raw_dir: Path, pattern: str) -> list[Path]:
    """The files under `raw_dir` matching `pattern`, sorted."""
    if not raw_dir.is_dir():
        raise RawDirectoryError(
            f"raw directory {raw_dir} does not exist or is not a directory: set DONGNE_RAW_DIR to "
            "a folder laid out as the raw-source contract says (events/, db/, reference/)."
        )
    return sorted(path for path in raw_dir.glob(pattern) if path.is_file())


def event_files(raw_dir: Path) -> list[Path]:
    """Every delivered event file (`.jsonl` or `.jsonl.gz`), sorted."""
    files = raw_files(raw_dir, "events/*/*.jsonl") + raw_files(raw_dir, "events/*/*.jsonl.gz")
    return sorted(files)


def delivery_key(relative: str) -> str:
    """The delivery a raw file belongs to: its day folder (events), its day (db), or ""."""
    parts = relative.split("/")
    if parts[0] == "events" and len(parts) > 2:
        return parts[1]
    if parts[0] == "db" and len(parts) > 2:
        return parts[2].split(".")[0]
    return ""


def group_by_delivery(
    files: list[Path], raw_dir: Path, window: DeliveryWindow
) -> dict[str, list[Path]]:
    """The files of each delivery present in `raw_dir` that `window` covers, by delivery."""
    grouped: dict[str, list[Path]] = {}
    for path in files:
        key = delivery_key(path.relative_to(raw_dir).as_posix())
        if window.covers(key):
            grouped.setdefault(key, []).append(path)
    return dict(sorted(grouped.items()))


def source_files(raw_dir: Path, source: str) -> list[Path]:
    """The delivered files of a partitioned source (events or a database export)."""
    if source == "events":
        return event_files(raw_dir)
    return [
        path
        for path in raw_files(raw_dir, DB_TABLES[source].raw_glob)
        if path.name.endswith((".csv", ".csv.gz"))
    ]


def list_deliveries(raw_dir: Path, source: str) -> list[str]:
    """Every delivery of a partitioned source present in the raw directory."""
    return list(group_by_delivery(source_files(raw_dir, source), raw_dir, DeliveryWindow.every()))


def delivery_days(raw_dir: Path) -> list[str]:
    """Every dated delivery of every partitioned source, sorted, without repeats.

    Read from folder and file names alone (no file is opened), so the Dagster code
    location can call it on load.
    """
    if not raw_dir.is_dir():
        return []
    days = {folder.name for folder in raw_dir.glob("events/*") if folder.is_dir()}
    days |= {path.name.split(".")[0] for path in raw_dir.glob("db/*/*.csv*")}
    return sorted(day for day in days if DAY_KEY.match(day))
