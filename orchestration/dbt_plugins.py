"""A dbt-duckdb plugin: functions the models call that DuckDB does not have.

- the session variables `dongne_hmac_inner` and `dongne_hmac_outer`: DONGNE_PII_SALT's
  two HMAC-SHA256 pads, read here from the environment so that the salt never appears in
  compiled SQL, dbt's logs or target/. The `keyed_hash` macro computes the HMAC from them
  with DuckDB's own sha256 (per row, in parallel; a Python function per row was 2-3x
  slower at 10M rows). `keyed_hash` below is the reference it is tested against.
- `dongne_normal_two_sided_p(z)`: two-sided p-value of a standard normal statistic.
- `dongne_chi2_sf(x, df)`: chi-square survival function (the goodness-of-fit p-value).

The statistics come from scipy.special (`ndtr`, `chdtrc`: what scipy.stats' `norm.sf`
and `chi2.sf` compute), exact to double precision, imported on first use (scipy.stats
would add most of a second to every build). Models reach these through
the `keyed_hash`, `normal_two_sided_p_value` and `chi_square_p_value` macros, which
dispatch per engine.
"""

from __future__ import annotations

import hashlib
import hmac
import math

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


def normal_two_sided_p(z: float | None) -> float | None:
    if z is None or math.isnan(z):
        return None
    from scipy.special import ndtr

    return float(2.0 * ndtr(-abs(z)))


def chi2_sf(statistic: float | None, degrees_of_freedom: int | None) -> float | None:
    if statistic is None or degrees_of_freedom is None or degrees_of_freedom < 1:
        return None
    if math.isnan(statistic):
        return None
    from scipy.special import chdtrc

    return float(chdtrc(degrees_of_freedom, statistic))


class Plugin(BasePlugin):
    def configure_connection(self, conn: DuckDBPyConnection) -> None:
        set_hmac_pads(conn, load_settings().pii_salt)
        conn.create_function(
            "dongne_normal_two_sided_p",
            normal_two_sided_p,
            ["DOUBLE"],
            "DOUBLE",
            side_effects=False,
        )
        conn.create_function(
            "dongne_chi2_sf", chi2_sf, ["DOUBLE", "BIGINT"], "DOUBLE", side_effects=False
        )

    def configure_cursor(self, cursor: DuckDBPyConnection) -> None:
        # dbt-duckdb runs models on cursors: each is a session of its own, without the
        # connection's variables (functions are shared by the database instance).
        set_hmac_pads(cursor, load_settings().pii_salt)
