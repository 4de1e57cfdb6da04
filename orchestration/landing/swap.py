"""Lake folders are written aside and swapped in whole, with a journal for crashes.

A landing writes its Parquet under `<lake>/.staging/` (outside every folder a reader
globs, on the same file system), then renames each delivery's folder into place. Two
renames are not one atomic step, so each swap writes a journal first: the next landing
finishes a swap that a crash cut in half (`recover_interrupted_swaps`). A reader or a
crash never sees half of a delivery, and landing a delivery again replaces it.
"""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

import duckdb

from orchestration import failpoints
from orchestration.landing.duck import sql_text


def staging_root(lake_dir: Path) -> Path:
    root = lake_dir / ".staging"
    root.mkdir(parents=True, exist_ok=True)
    return root


def new_staging_dir(lake_dir: Path) -> Path:
    """A fresh, empty folder under the staging root."""
    folder = staging_root(lake_dir) / f"new-{uuid.uuid4().hex}"
    folder.mkdir()
    return folder


def swap_in(lake_dir: Path, prepared: Path, target: Path) -> None:
    """Make the complete folder `prepared` the folder `target`, replacing what was there."""
    target.parent.mkdir(parents=True, exist_ok=True)
    swap_id = uuid.uuid4().hex
    retired = staging_root(lake_dir) / f"old-{swap_id}"
    journal = staging_root(lake_dir) / f"swap-{swap_id}.json"
    journal.write_text(
        json.dumps({"target": str(target), "new": str(prepared), "old": str(retired)})
    )
    if target.exists():
        target.rename(retired)
    failpoints.reach("lake.swap")
    prepared.rename(target)
    journal.unlink()
    shutil.rmtree(retired, ignore_errors=True)


def swap_in_partitions(
    lake_dir: Path, written: Path, column: str, base: Path, keys: list[str]
) -> None:
    """Swap in `base/<key>` for every key, from the hive folders `written/<column>=<key>`
    that one partitioned COPY wrote. A key the COPY wrote nothing for becomes an empty
    folder, so a delivery landed again with no rows (or no rejected rows) replaces the
    old ones."""
    for key in keys:
        prepared = written / f"{column}={key}"
        if not prepared.is_dir():
            prepared = new_staging_dir(lake_dir)
        swap_in(lake_dir, prepared, base / key)
    shutil.rmtree(written, ignore_errors=True)


def copy_to_folder(
    con: duckdb.DuckDBPyConnection,
    query: str,
    folder: Path,
    partition_by: str | None = None,
    keep: bool = True,
) -> None:
    """COPY `query` as Parquet into `folder`: one file, or hive folders by `partition_by`
    (whose columns stay in the files unless `keep` is false)."""
    if partition_by:
        con.execute(
            f"copy ({query}) to '{sql_text(str(folder))}' (format parquet, "
            f"partition_by ({partition_by}), write_partition_columns {str(keep).lower()}, "
            "overwrite_or_ignore)"
        )
    else:
        con.execute(
            f"copy ({query}) to '{sql_text(str(folder / 'data.parquet'))}' (format parquet)"
        )


def write_schema(con: duckdb.DuckDBPyConnection, lake_dir: Path, path: Path, query: str) -> None:
    """A zero-row file with a source's columns: readers work before any delivery lands."""
    staging = staging_root(lake_dir) / f"{uuid.uuid4().hex}.parquet"
    con.execute(
        f"copy (select * from ({query}) limit 0) to '{sql_text(str(staging))}' (format parquet)"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    staging.replace(path)


def drop_stale(base: Path, keep: set[str]) -> None:
    """Remove delivery folders whose raw delivery no longer exists (a full landing), and
    anything else but the schema file (e.g. a lake written in an older layout)."""
    if not base.is_dir():
        return
    for child in base.iterdir():
        if child.name in keep or child.name == "_schema.parquet":
            continue
        if child.is_dir():
            shutil.rmtree(child)
        else:
            child.unlink()


def recover_interrupted_swaps(lake_dir: Path) -> None:
    """Finish the folder swaps an earlier landing left half done, then drop its debris.

    A journal is written only once the new folder is complete, so a target left missing
    gets the new folder (roll forward), or failing that the old one back; nothing a
    reader globs is ever left without its delivery.
    """
    root = lake_dir / ".staging"
    for journal in sorted(root.glob("swap-*.json")) if root.exists() else []:
        swap = json.loads(journal.read_text())
        target, new, old = (Path(swap[name]) for name in ("target", "new", "old"))
        if not target.exists():
            for candidate in (new, old):
                if candidate.exists():
                    candidate.rename(target)
                    break
        journal.unlink()
    shutil.rmtree(root, ignore_errors=True)
