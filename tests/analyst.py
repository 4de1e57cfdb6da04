"""An analyst in a loop: `python -m tests.analyst DB STOP_FILE OUT_JSON`.

Until STOP_FILE exists (and once after), opens the published database read-only, reads
which publish it is, and checks that every table holds the rows that publish recorded (a
whole version, never half of one). Writes what it saw to OUT_JSON: reads, publish ids, errors.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import duckdb


def read_once(database: Path) -> str:
    """One consistent read; returns the publish id, raises on anything inconsistent."""
    with duckdb.connect(str(database), read_only=True) as con:
        (publish_id,) = con.execute("select publish_id from marts.publish_manifest").fetchone()
        expected = con.execute(
            "select table_name, row_count from marts.publish_tables where publish_id = ?",
            [publish_id],
        ).fetchall()
        if not expected:
            raise AssertionError(f"publish {publish_id} lists no tables")
        for table, rows in expected:
            (found,) = con.execute(f"select count(*) from {table}").fetchone()
            if found != rows:
                raise AssertionError(f"{table}: {found} rows, publish {publish_id} has {rows}")
        con.execute("select sum(dau) from marts.fct_daily_active_users").fetchone()
    return publish_id


def main(database: Path, stop: Path, out: Path) -> None:
    reads, errors, publishes = 0, [], []
    while True:
        # One last read after STOP_FILE appears: it sees what the build under test left.
        last = stop.exists()
        try:
            publish_id = read_once(database)
            reads += 1
            if not publishes or publishes[-1] != publish_id:
                publishes.append(publish_id)
        except Exception as error:  # every failure is what the test looks for
            errors.append(f"{type(error).__name__}: {error}")
        if last:
            break
        time.sleep(0.25)  # an analyst who queries every ~0.25 s: not a busy loop, which
        # would take the CPU the builds under test need
    out.write_text(json.dumps({"reads": reads, "errors": errors, "publishes": publishes}))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
