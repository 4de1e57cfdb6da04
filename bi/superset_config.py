"""Superset's configuration for `make bi` (read through SUPERSET_CONFIG_PATH).

Everything Superset keeps (its metadata database, the secret key) lives in
DONGNE_BI_HOME, under the data directory: never in the repository.
"""

import os
from pathlib import Path

_HOME = Path(os.environ["DONGNE_BI_HOME"])

SECRET_KEY = (_HOME / "secret_key").read_text().strip()
SQLALCHEMY_DATABASE_URI = f"sqlite:///{_HOME / 'superset.db'}"
# Two gunicorn workers share that SQLite file, and a sign-in writes to it: on a busy machine
# a write waited past SQLite's default 5 s and the sign-in failed back to the login page.
SQLALCHEMY_ENGINE_OPTIONS = {"connect_args": {"timeout": 60}}

# No result cache: every chart query opens the published analytics.duckdb anew (Superset
# opens analytics databases without a connection pool), so a new publish shows at once.
DATA_CACHE_CONFIG = {"CACHE_TYPE": "NullCache"}
CACHE_CONFIG = {"CACHE_TYPE": "NullCache"}

# A laptop tool: rate limits in memory, no telemetry, quiet logs.
RATELIMIT_STORAGE_URI = "memory://"
LOG_LEVEL = "WARNING"
SQLALCHEMY_TRACK_MODIFICATIONS = False
ROW_LIMIT = 50000

# A second guard behind the connection's own (bi/bundle/databases/: DuckDB with external
# access off and its settings locked): Superset refuses SQL that calls DuckDB's file
# readers, from SQL Lab or a chart's custom SQL alike.
DISALLOWED_SQL_FUNCTIONS = {
    "duckdb": {
        "read_text",
        "read_blob",
        "read_csv",
        "read_csv_auto",
        "read_parquet",
        "parquet_scan",
        "read_json",
        "read_json_auto",
        "read_ndjson",
        "read_ndjson_auto",
        "glob",
    }
}
