"""A dbt-duckdb plugin: the session variables `dongne_hmac_inner` and `dongne_hmac_outer`.

They hold DONGNE_PII_SALT's two HMAC-SHA256 pads, read here from the environment so that
the salt never appears in compiled SQL, dbt's logs or target/. The `keyed_hash` macro
computes the HMAC from them with DuckDB's own sha256 (per row, in parallel; a Python
function per row was 2-3x slower at 10M rows). `keyed_hash` below is the reference it is
tested against. (The experiment mart's p-values are SQL, macros/statistics.sql: no
function of ours is registered, on any engine.)
"""

from __future__ import annotations

import hashlib
import hmac

from dbt.adapters.duckdb.plugins import BasePlugin
from duckdb import DuckDBPyConnection

from orchestration.settings import hmac_pads, load_settings


def keyed_hash(value: str | None, salt: str) -> str | None:
    """The pseudonym of `value`: equal for equal values, not reversible without the salt."""
    if value is None:
        return None
    return hmac.new(salt.encode(), value.encode(), hashlib.sha256).hexdigest()


def set_hmac_pads(con: DuckDBPyConnection, salt: str) -> None:
    """The session variables the keyed_hash macro reads (a cursor has its own session)."""
    inner, outer = hmac_pads(salt)
    con.execute("set variable dongne_hmac_inner = ?", [inner])
    con.execute("set variable dongne_hmac_outer = ?", [outer])


class Plugin(BasePlugin):
    def configure_connection(self, conn: DuckDBPyConnection) -> None:
        set_hmac_pads(conn, load_settings().pii_salt)

    def configure_cursor(self, cursor: DuckDBPyConnection) -> None:
        # dbt-duckdb runs models on cursors: each is a session of its own, without the
        # connection's variables (functions are shared by the database instance).
        set_hmac_pads(cursor, load_settings().pii_salt)
