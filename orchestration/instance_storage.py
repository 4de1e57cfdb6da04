"""Dagster's SQLite event log, without its per-event connection cost.

Every event of a run (a step starting, each dbt model's materialisation, each dbt test's
check result, and the planned ones at run creation: about 600 for one build) is one
insert into the run's SQLite file and, for asset events, into the index file. Dagster's
own `SqliteEventLogStorage` creates a SQLAlchemy engine and opens a new connection for
every one of them, and SQLite syncs the disk on every commit: about 4 ms an event, 4 to
7 s of every build whatever its data (measured with py-spy, see docs/speed.md).

This storage keeps one engine, and one connection per thread, for each database file,
and commits in WAL mode with `synchronous=NORMAL`: still atomic and safe against a
killed process (the crash tests kill builds with SIGKILL), and only a power cut can lose
the last commits of a run's log. The files, tables and schema are Dagster's own, so the
UI, the daemon and `dagster` commands read them as before.

Configured in orchestration/dagster.yaml; the files live where Dagster's default puts
them, `$DAGSTER_HOME/history/runs/`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import sqlalchemy as db
from dagster import Field, StringSource
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._serdes import ConfigurableClassData
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import SingletonThreadPool

# Dagster's own wait for a locked SQLite file (several processes share the files).
BUSY_TIMEOUT_SECONDS = 200


def default_base_dir() -> str:
    """Dagster's default place for the event log: $DAGSTER_HOME/history/runs."""
    home = os.environ.get("DAGSTER_HOME")
    if not home:
        raise RuntimeError(
            "DAGSTER_HOME is not set: the event log storage of orchestration/dagster.yaml keeps "
            "its files under $DAGSTER_HOME/history/runs (make run and make dev set it)."
        )
    return os.path.join(home, "history", "runs")


def _tune(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA synchronous=NORMAL")


class PooledSqliteEventLogStorage(SqliteEventLogStorage):
    """`SqliteEventLogStorage` with one engine per database file and pooled connections."""

    def __init__(self, base_dir: str | None = None, inst_data: ConfigurableClassData | None = None):
        self._engines: dict[str, Engine] = {}
        super().__init__(base_dir or default_base_dir(), inst_data=inst_data)

    @classmethod
    def config_type(cls) -> dict[str, Field]:
        return {"base_dir": Field(StringSource, is_required=False)}

    @classmethod
    def from_config_value(
        cls, inst_data: ConfigurableClassData | None, config_value: Mapping[str, Any]
    ) -> PooledSqliteEventLogStorage:
        return cls(base_dir=config_value.get("base_dir"), inst_data=inst_data)

    def _engine(self, shard: str) -> Engine:
        engine = self._engines.get(shard)
        if engine is None:
            engine = db.create_engine(
                self.conn_string_for_shard(shard),
                poolclass=SingletonThreadPool,
                connect_args={"timeout": BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
            )
            db.event.listen(engine, "connect", _tune)
            self._engines[shard] = engine
        return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def wipe(self) -> None:
        # Dagster deletes the run files: the pooled connections to them go first.
        for engine in self._engines.values():
            engine.dispose()
        self._engines.clear()
        super().wipe()

    def dispose(self) -> None:
        for engine in self._engines.values():
            engine.dispose()
        self._engines.clear()
        super().dispose()
