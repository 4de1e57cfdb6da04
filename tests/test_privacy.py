"""No personal data reaches analysts or models, and the salt is never written anywhere.

Scans every table and column of the published database: no column named for personal
data, no value that looks like an e-mail address or a Korean phone number, and none of
the nicknames, e-mails or phones the raw user exports hold, whole or inside a text.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
from pathlib import Path

import duckdb
import pytest
from dagster import ExecuteInProcessResult

from orchestration.assets.publish import PublishError, publish_analytics_db
from orchestration.settings import DBT_PROJECT_DIR, hmac_pads
from tests import oracle
from tests.conftest import query, settings_for

PERSONAL_COLUMN = re.compile(r"(e_?mail|phone|mobile|nick_?name|password|address)", re.I)
EMAIL = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+\.[A-Za-z0-9.-]+"
# A Korean mobile number standing alone (not digits inside a hex digest or a longer id).
PHONE = r"(^|[^0-9A-Za-z])01[016789][- .]?[0-9]{3,4}[- .]?[0-9]{4}($|[^0-9A-Za-z])"


def export_rows(raw: Path, table: str) -> list[dict[str, str]]:
    """Every row of a raw database export, read with the standard library."""
    rows: list[dict[str, str]] = []
    for path in sorted((raw / "db" / table).glob("*.csv*")):
        data = path.read_bytes()
        text = (gzip.decompress(data) if path.name.endswith(".gz") else data).decode("utf-8")
        rows += csv.DictReader(io.StringIO(text))
    return rows


def raw_personal_values(raw: Path) -> set[str]:
    """Every nickname, e-mail and phone in the raw user exports."""
    values = {
        row.get(name) or ""
        for row in export_rows(raw, "users")
        for name in ("nickname", "email", "phone")
    }
    values.discard("")
    return values


def raw_texts(raw: Path) -> list[str]:
    """Every listing title and description and every post body of the raw exports."""
    listings = export_rows(raw, "listings")
    return [row.get(name) or "" for row in listings for name in ("title", "description")] + [
        row.get("body") or "" for row in export_rows(raw, "posts")
    ]


def string_columns(database: Path) -> list[tuple[str, str, str]]:
    """Every column of every user table that can hold text (lists and structs included:
    the scans read them cast to text)."""
    return query(
        database,
        "select schema_name, table_name, column_name from duckdb_columns() "
        "where not internal and (data_type like '%VARCHAR%' or data_type like 'STRUCT%' "
        "or data_type like 'MAP%' or data_type = 'JSON') order by all",
    )


def personal_data_findings(database: Path, personal: set[str]) -> list[tuple[str, tuple]]:
    """Every text column holding an e-mail address, a phone number or one of `personal`
    (whole or inside a longer text): (schema.table.column, (emails, phones, values))."""
    findings = []
    with duckdb.connect(str(database), read_only=True) as con:
        con.execute("create temp table personal (value varchar)")
        con.executemany("insert into personal values (?)", [[v] for v in sorted(personal)])
        for schema, table, column in string_columns(database):
            if schema == "temp":
                continue
            cell = f'cast("{schema}"."{table}"."{column}" as varchar)'
            hits = con.execute(f"""
                select count(*) filter (where regexp_matches({cell}, '{EMAIL}')),
                       count(*) filter (where regexp_matches({cell}, '{PHONE}')),
                       count(*) filter (where exists (
                           select 1 from personal where contains({cell}, personal.value)))
                from "{schema}"."{table}"
            """).fetchall()[0]
            if any(hits):
                findings.append((f"{schema}.{table}.{column}", hits))
    return findings


def test_published_database_has_no_personal_columns_or_values(
    sample_raw_dir: Path, sample_build: tuple[Path, ExecuteInProcessResult]
) -> None:
    data_dir, _ = sample_build
    database = data_dir / "analytics.duckdb"
    schemas = {s for (s,) in query(database, "select distinct schema_name from duckdb_tables()")}
    assert schemas == {"marts", "ml"}
    columns = query(database, "select table_name, column_name from duckdb_columns()")
    assert len(columns) > 50
    assert [c for c in columns if PERSONAL_COLUMN.search(c[1])] == []

    personal = raw_personal_values(sample_raw_dir)
    assert len(personal) > 100  # the sample has users with all three
    typed = raw_texts(sample_raw_dir)  # and texts with phone numbers and e-mails typed in
    assert any(re.search(EMAIL, text) for text in typed)
    assert any(re.search(PHONE, text) for text in typed)
    findings = personal_data_findings(database, personal)
    assert findings == [], "personal data published (emails, phones, raw values): " + str(findings)


def test_the_scan_finds_personal_data_where_there_is_some(tmp_path: Path) -> None:
    """The scan above is not vacuous: run on a table holding an e-mail, a phone and a
    nickname inside longer texts (and a hex digest that only looks like digits), it
    reports each, in the column that holds it."""
    database = tmp_path / "leaky.duckdb"
    with duckdb.connect(str(database)) as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.t as select * from (values "
            "('write to kim@example.kr', 'fine'), ('call 010-1234-5678', 'fine'), "
            "('thanks 행복한판다69!', 'fine'), ('nothing here', 'a1b0101234567890cafe')) "
            "v(text, digest)"
        )
    assert personal_data_findings(database, {"행복한판다69"}) == [("marts.t.text", (1, 1, 1))]


RAW_PERSON_IDS = {"user_id", "seller_id", "buyer_id", "author_id", "device_id"}
USER_KEYS = {"user_key", "seller_key", "buyer_key"}  # a seller and a buyer are users


def key_findings(database: Path, raw: Path, salt: str) -> list[str]:
    """Where the published database breaks the contract's keys: a raw id column (a join
    would turn a key back into an id), a key column that is empty or holds a value that
    is not the HMAC of a real id of its kind (an unkeyed hash, another salt, the hash of
    the wrong text), or `dim_users` without exactly one key per current user."""
    columns = query(
        database, "select schema_name || '.' || table_name, column_name from duckdb_columns()"
    )
    findings = [f"{t}.{c} is a raw id" for t, c in columns if c.lower() in RAW_PERSON_IDS]
    events = oracle.valid_events(raw)
    users = oracle.current_rows(
        raw, "users", "user_id", oracle.USER_INTS, ("signup_at", "updated_at")
    )
    user_ids = set(users) | {e["user_id"] for e in events if e["user_id"] is not None}
    expected = {
        "user": {oracle.person_key(u, salt) for u in user_ids},
        "device": {oracle.person_key(e["device_id"], salt) for e in events},
    }
    key_columns = [(t, c) for t, c in columns if c in USER_KEYS or c == "device_key"]
    if len(key_columns) < 8:  # sessions (2), users, user history, funnel, listings (3)
        findings.append(f"only {len(key_columns)} key columns: {key_columns}")
    for table, column in key_columns:
        kind = "device" if column == "device_key" else "user"
        published = {k for (k,) in query(database, f"select distinct {column} from {table}")}
        published.discard(None)
        if not published:
            findings.append(f"{table}.{column} is empty")
        elif not published <= expected[kind]:
            findings.append(f"{table}.{column}: not the contract's keys")
    # Exactly one key per current user: equal ids, equal keys, in every table.
    dim_users = {k for (k,) in query(database, "select user_key from marts.dim_users")}
    if dim_users != {oracle.person_key(u, salt) for u in users}:
        findings.append("marts.dim_users: not one key per current user")
    return findings + wrong_person_findings(database, raw, salt)


def wrong_person_findings(database: Path, raw: Path, salt: str) -> list[str]:
    """Each key column against the right person, row by row: a `seller_key` is the key of
    that listing's or trade's `seller_id`, a `buyer_key` of its `buyer_id`, a `user_key`
    of the user active that day. (A key of some real person of the right kind, the
    buyer's in place of the seller's, passes `key_findings`' set check, not this.)"""
    key = lambda value: oracle.person_key(value, salt)  # noqa: E731
    listings = oracle.current_rows(
        raw, "listings", "listing_id", oracle.LISTING_INTS, ("created_at", "updated_at")
    )
    versions = oracle.all_rows(
        raw, "listings", "listing_id", oracle.LISTING_INTS, ("created_at", "updated_at")
    )
    trades = oracle.current_rows(
        raw, "trades", "trade_id", oracle.TRADE_INTS, ("completed_at", "updated_at")
    )
    active = {
        (e["event_date"], key(e["user_id"]))
        for e in oracle.valid_events(raw)
        if e["user_id"] is not None
    }
    expected: dict[str, tuple[str, set[tuple]]] = {
        "marts.dim_listings.seller_key": (
            "select listing_id, seller_key from marts.dim_listings",
            {(i, key(row["seller_id"])) for i, row in listings.items()},
        ),
        "marts.dim_listing_history.seller_key": (
            "select listing_id, seller_key from marts.dim_listing_history",
            {(row["listing_id"], key(row["seller_id"])) for _, row in versions},
        ),
        "ml.listing_popularity_features.seller_key": (
            "select listing_id, seller_key from ml.listing_popularity_features",
            {(i, key(row["seller_id"])) for i, row in listings.items()}
            | {(row["listing_id"], key(row["seller_id"])) for _, row in versions},
        ),
        "marts.fct_completed_trades.seller_key": (
            "select trade_id, seller_key from marts.fct_completed_trades",
            {(i, key(row["seller_id"])) for i, row in trades.items()},
        ),
        "marts.fct_completed_trades.buyer_key": (
            "select trade_id, buyer_key from marts.fct_completed_trades",
            {(i, key(row["buyer_id"])) for i, row in trades.items()},
        ),
        "marts.fct_active_user_days.user_key": (
            "select activity_date, user_key from marts.fct_active_user_days",
            active,
        ),
    }
    findings = []
    for column, (sql, right) in expected.items():
        published = set(query(database, sql))
        if not published:
            findings.append(f"{column} is empty")
        elif not published <= right:
            findings.append(f"{column}: the key of another person")
    return findings


def test_every_person_is_published_as_the_contracts_key_and_never_as_an_id(
    sample_raw_dir: Path, sample_build: tuple[Path, ExecuteInProcessResult]
) -> None:
    """No raw id column anywhere, and every key column holds the contract's HMAC of a
    real id of its kind (an unkeyed hash fails it: tests/test_guarantees_can_fail.py)."""
    data_dir, _ = sample_build
    database = data_dir / "analytics.duckdb"
    salt = settings_for(sample_raw_dir, data_dir).pii_salt
    assert key_findings(database, sample_raw_dir, salt) == []
    kinds = {c for (c,) in query(database, "select column_name from duckdb_columns()")}
    assert kinds >= {"user_key", "seller_key", "buyer_key", "device_key"}


def test_publish_refuses_a_raw_person_id_column(tmp_path: Path) -> None:
    """A model that leaks an id (a join that kept `seller_id`) stops the publish, named,
    and the previous published file stays as it was."""
    warehouse, target = tmp_path / "warehouse.duckdb", tmp_path / "analytics.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.dim_listings as select 1 as listing_id, 7 as seller_id")
    target.write_bytes(b"the previous version")
    with pytest.raises(
        PublishError, match=r"raw person id columns: marts\.dim_listings\.seller_id"
    ):
        publish_analytics_db(warehouse, target)
    assert target.read_bytes() == b"the previous version"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["analytics.duckdb", "warehouse.duckdb"]


def secrets_of(salt: str) -> list[bytes]:
    """What must never be written: the salt, and its HMAC pads (each as good as the salt)
    as raw bytes and as hex text, either case."""
    pads = hmac_pads(salt)
    return [
        salt.encode(),
        *pads,
        *(pad.hex().encode() for pad in pads),
        *(pad.hex().upper().encode() for pad in pads),
    ]


def file_leaks(roots: list[Path], salt: str) -> tuple[int, list[str]]:
    """(files scanned, `file: secret` for each secret found) under `roots`, databases and
    Parquet aside (they compress their strings: ask them by query, `column_leaks`)."""
    secrets = secrets_of(salt)
    scanned, leaks = 0, []
    for root in roots:
        for path in root.rglob("*") if root.exists() else []:
            if path.is_file() and path.suffix not in {".duckdb", ".parquet", ".wal"}:
                scanned += 1
                content = path.read_bytes()
                leaks += [f"{path}: {secret[:6]!r}" for secret in secrets if secret in content]
    return scanned, leaks


def column_leaks(database: Path, salt: str) -> list[str]:
    """Every text column of a DuckDB file, asked for the salt and the pads' hex."""
    texts = [secret.decode() for secret in secrets_of(salt) if secret.isascii()]
    leaks = []
    with duckdb.connect(str(database), read_only=True) as con:
        for schema, table, column in string_columns(database):
            if schema in {"information_schema", "pg_catalog"}:
                continue
            for text in texts:
                found = con.execute(
                    f'select count(*) from "{schema}"."{table}" where contains("{column}", ?)',
                    [text],
                ).fetchone()[0]
                if found:
                    leaks.append(f"{database.name}: {schema}.{table}.{column}")
    return leaks


def test_neither_the_salt_nor_its_pads_are_written_to_any_output_or_log(
    sample_raw_dir: Path, sample_build: tuple[Path, ExecuteInProcessResult]
) -> None:
    """On DuckDB the keys are computed from the salt's HMAC pads, set as session variables:
    a pad is as good as the salt, so neither may reach a file, a log, the compiled SQL or a
    table (a planted pad is found: tests/test_guarantees_can_fail.py)."""
    data_dir, _ = sample_build
    salt = settings_for(sample_raw_dir, data_dir).pii_salt
    scanned, leaks = file_leaks(
        [data_dir, DBT_PROJECT_DIR / "target", DBT_PROJECT_DIR / "logs"], salt
    )
    assert scanned > 10 and leaks == []
    for database in (data_dir / "analytics.duckdb", data_dir / "warehouse.duckdb"):
        assert column_leaks(database, salt) == []
