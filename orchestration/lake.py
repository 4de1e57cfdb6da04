"""Land raw deliveries in the Parquet lake: valid rows loaded, every other row quarantined.

This module knows SOURCES.md's delivery formats and rejection rules and nothing of
Dagster, so ingestion can be tested (and run) without an orchestrator. DuckDB reads
every file as it was delivered (`read_csv`; plain or gzip), validation is SQL, and
nothing iterates over rows in Python.

Lake layout under `<DONGNE_DATA_DIR>/lake`, one folder per *delivery* (the raw
day folder of events, the day file of a database export) so that a new delivery is
landed without touching the others:

    events/<delivery>/event_date=YYYY-MM-DD/*.parquet   valid event lines, every copy
    events/_schema.parquet                              the columns, for an empty lake
    db/<table>/<delivery>/data.parquet                  every valid version of that day's file
    db/<table>/_schema.parquet
    reference/<name>/data.parquet                       the reference table as delivered
    quarantine/<source>/[<delivery>/]data.parquet       rejected lines and rows, with reason

Each delivery folder is written whole under `.staging/` and swapped in with renames, so
a reader or a crash never sees half of a landing, and landing a delivery again replaces
it (never duplicates it). Lines are numbered from 1; for CSV files a "line" is the record
number with the header as line 1 (the physical line unless a quoted field holds a line
break).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import shutil
import uuid
import zlib
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from orchestration import failpoints

# A delimiter that never occurs in text: each line is read as one VARCHAR column.
LINE_DELIMITER = "\\x1f"
MAX_LINE_BYTES = 16 * 1024 * 1024  # longer lines are quarantined as line_too_long

EVENT_REQUIRED_FIELDS = ("event_id", "event_name", "device_id", "occurred_at", "received_at")

# ISO-8601 with a mandatory UTC offset (Z, +09:00, +0900 or +09).
ISO_WITH_OFFSET = r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}(:?\d{2})?)$"
# SOURCES.md: database and reference timestamps are `YYYY-MM-DD HH:MM:SS` in KST.
DB_TIMESTAMP_FORMATS = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S.%f"]
# Reference sheets are kept by hand: a bare date means midnight KST.
REFERENCE_TIMESTAMP_FORMATS = [*DB_TIMESTAMP_FORMATS, "%Y-%m-%d %H:%M", "%Y-%m-%d"]
INTEGER_TEXT = r"^\s*[+-]?\d+\s*$"


@dataclass(frozen=True)
class TableSpec:
    """How one CSV source is validated and typed."""

    source: str  # the lake's name for it: "users", "regions", ...
    folder: str  # "db" or "reference"
    columns: tuple[str, ...]
    primary_key: str | None
    integer_columns: tuple[str, ...] = ()
    timestamp_columns: tuple[str, ...] = ()
    timestamp_formats: tuple[str, ...] = tuple(DB_TIMESTAMP_FORMATS)

    @property
    def raw_glob(self) -> str:
        return (
            f"{self.folder}/{self.source}/*.csv*"
            if self.folder == "db"
            else f"reference/{self.source}.csv"
        )


DB_TABLES: dict[str, TableSpec] = {
    spec.source: spec
    for spec in [
        TableSpec(
            "users",
            "db",
            (
                "user_id",
                "nickname",
                "email",
                "phone",
                "region_id",
                "signup_at",
                "status",
                "updated_at",
            ),
            "user_id",
            ("user_id", "region_id"),
            ("signup_at", "updated_at"),
        ),
        TableSpec(
            "listings",
            "db",
            (
                "listing_id",
                "seller_id",
                "category_id",
                "region_id",
                "title",
                "description",
                "price_krw",
                "status",
                "created_at",
                "updated_at",
            ),
            "listing_id",
            ("listing_id", "seller_id", "category_id", "region_id", "price_krw"),
            ("created_at", "updated_at"),
        ),
        TableSpec(
            "trades",
            "db",
            (
                "trade_id",
                "listing_id",
                "buyer_id",
                "seller_id",
                "price_krw",
                "status",
                "completed_at",
                "updated_at",
            ),
            "trade_id",
            ("trade_id", "listing_id", "buyer_id", "seller_id", "price_krw"),
            ("completed_at", "updated_at"),
        ),
        TableSpec(
            "posts",
            "db",
            (
                "post_id",
                "author_id",
                "region_id",
                "topic",
                "body",
                "status",
                "created_at",
                "updated_at",
            ),
            "post_id",
            ("post_id", "author_id", "region_id"),
            ("created_at", "updated_at"),
        ),
        TableSpec(
            "moderation_labels",
            "db",
            ("label_id", "target_type", "target_id", "label", "source", "labeled_at"),
            "label_id",
            ("label_id", "target_id"),
            ("labeled_at",),
        ),
        TableSpec(
            "experiment_assignments",
            "db",
            ("experiment_id", "user_id", "variant", "assigned_at"),
            None,
            ("user_id",),
            ("assigned_at",),
        ),
    ]
}

REFERENCE_TABLES: dict[str, TableSpec] = {
    spec.source: spec
    for spec in [
        TableSpec(
            "regions",
            "reference",
            ("region_id", "city", "district", "neighborhood"),
            "region_id",
            ("region_id",),
        ),
        TableSpec(
            "categories", "reference", ("category_id", "name"), "category_id", ("category_id",)
        ),
        TableSpec(
            "experiments",
            "reference",
            (
                "experiment_id",
                "name",
                "control_variant",
                "variants",
                "started_at",
                "ended_at",
                "primary_metric",
            ),
            "experiment_id",
            (),
            ("started_at", "ended_at"),
            tuple(REFERENCE_TIMESTAMP_FORMATS),
        ),
        TableSpec(
            "incidents",
            "reference",
            ("incident_id", "started_at", "ended_at", "description"),
            "incident_id",
            (),
            ("started_at", "ended_at"),
            tuple(REFERENCE_TIMESTAMP_FORMATS),
        ),
    ]
}

QUARANTINE_COLUMNS = (
    "source VARCHAR, file VARCHAR, line BIGINT, reason VARCHAR, detail VARCHAR, raw VARCHAR"
)


@dataclass
class LandingReport:
    """What one landing did: the figures a person checks first."""

    source: str
    files_read: list[str] = field(default_factory=list)
    rows_received: int = 0
    rows_loaded: int = 0
    quarantined_by_reason: dict[str, int] = field(default_factory=dict)
    rejected_files: dict[str, str] = field(default_factory=dict)  # file -> why
    extra_columns: dict[str, list[str]] = field(default_factory=dict)  # file -> ignored columns
    partitions: list[str] = field(default_factory=list)  # event dates touched (events only)
    deliveries: list[str] = field(default_factory=list)  # delivery folders (re)landed

    @property
    def rows_quarantined(self) -> int:
        return sum(self.quarantined_by_reason.values())

    @property
    def conserved(self) -> bool:
        return self.rows_received == self.rows_loaded + self.rows_quarantined


class RawDirectoryError(RuntimeError):
    """The raw directory cannot be read: the message says what to do."""


def connect(
    memory_limit: str = "2GB", threads: int = 2, temp_dir: Path | None = None
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB for landing: it never opens the warehouse file."""
    con = duckdb.connect(config={"memory_limit": memory_limit, "threads": threads})
    if temp_dir is not None:
        temp_dir.mkdir(parents=True, exist_ok=True)
        con.execute(f"set temp_directory = '{sql_text(str(temp_dir))}'")
    con.execute("set TimeZone = 'UTC'")
    return con


def sql_text(value: str) -> str:
    return value.replace("'", "''")


def raw_files(raw_dir: Path, pattern: str) -> list[Path]:
    if not raw_dir.is_dir():
        raise RawDirectoryError(
            f"raw directory {raw_dir} does not exist or is not a directory: set DONGNE_RAW_DIR to "
            "a folder laid out as in SOURCES.md (events/, db/, reference/)."
        )
    return sorted(path for path in raw_dir.glob(pattern) if path.is_file())


def delivery_key(relative: str) -> str:
    """The delivery a raw file belongs to: its day folder (events), its day (db), or ""."""
    parts = relative.split("/")
    if parts[0] == "events" and len(parts) > 2:
        return parts[1]
    if parts[0] == "db" and len(parts) > 2:
        return parts[2].split(".")[0]
    return ""


def group_by_delivery(
    files: list[Path], raw_dir: Path, deliveries: Collection[str] | None
) -> dict[str, list[Path]]:
    """The files of each wanted delivery (all deliveries present when `deliveries` is None)."""
    grouped: dict[str, list[Path]] = {}
    for path in files:
        grouped.setdefault(delivery_key(path.relative_to(raw_dir).as_posix()), []).append(path)
    if deliveries is None:
        return dict(sorted(grouped.items()))
    return {key: grouped.get(key, []) for key in sorted(set(deliveries))}


def list_deliveries(raw_dir: Path, source: str) -> list[str]:
    """Every delivery of a partitioned source present in the raw directory."""
    pattern = "events/*/*.jsonl*" if source == "events" else f"db/{source}/*.csv*"
    return sorted(set(group_by_delivery(raw_files(raw_dir, pattern), raw_dir, None)))


# --------------------------------------------------------------------------------------
# Reading lines and records
# --------------------------------------------------------------------------------------


def count_lines(data: bytes) -> int:
    """Physical lines in a file's bytes, counted independently of DuckDB."""
    if not data:
        return 0
    return data.count(b"\n") + (0 if data.endswith(b"\n") else 1)


def readable_copy(path: Path, data: bytes, scratch: Path) -> Path:
    """The file DuckDB should read for `path`: itself, or a scratch copy with LF line ends.

    DuckDB's line reader also breaks lines at a carriage return, so a CRLF file would
    gain an empty line per line. The copy changes only the line ends (never the lines),
    lives in the data directory, and the raw file is left as delivered.
    """
    if b"\r" not in data:
        return path
    scratch.mkdir(parents=True, exist_ok=True)
    copy = scratch / f"{uuid.uuid4().hex}.jsonl"
    copy.write_bytes(data.replace(b"\r\n", b"\n"))
    return copy


def read_bytes(path: Path) -> bytes:
    raw = path.read_bytes()
    return gzip.decompress(raw) if path.name.endswith(".gz") else raw


def _reset_rejects(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("drop table if exists rej_errors")
    con.execute("drop table if exists rej_scans")


def _number_accepted_rows(con: duckdb.DuckDBPyConnection, table: str, first_line: int) -> None:
    """Give each accepted row of `table` (ordinal `rn`) its line number.

    DuckDB skips rejected lines, so the n-th accepted row sits on the n-th line number
    (from `first_line`) that is not a rejected line.
    """
    con.execute(f"""
        create or replace temp table {table}_numbered as
        with
        rejected as (select distinct line from rej_errors),
        accepted_count as (select count(*) as n from {table}),
        free_lines as (
            select candidate.line, row_number() over (order by candidate.line) as rn
            from (
                select range + {first_line} as line
                from range((select n from accepted_count) + (select count(*) from rejected))
            ) as candidate
            anti join rejected using (line)
        )
        select free_lines.line, {table}.* exclude (rn)
        from {table}
        join free_lines using (rn)
    """)


def _rejected_rows(con: duckdb.DuckDBPyConnection) -> list[tuple[int, str, str | None]]:
    rows = con.execute("""
        select line, error_type::varchar, csv_line
        from rej_errors
        qualify row_number() over (partition by line order by column_idx nulls last) = 1
        order by line
    """).fetchall()
    return [(int(line), kind, text) for line, kind, text in rows]


READER_REASONS = {
    "INVALID ENCODING": "invalid_utf8",
    "LINE SIZE OVER MAXIMUM": "line_too_long",
    "TOO MANY COLUMNS": "too_many_fields",
    "MISSING COLUMNS": "too_few_fields",
    "UNQUOTED VALUE": "malformed_csv_row",
    "INVALID STATE": "malformed_csv_row",
    "CAST": "malformed_csv_row",
}


# --------------------------------------------------------------------------------------
# Events
# --------------------------------------------------------------------------------------


def _event_checks() -> str:
    """The first failing SOURCES.md rule names the reason a line is quarantined."""
    missing = "\n".join(
        f"when nullif(trim(json_extract_string(raw_line, '$.{name}')), '') is null "
        f"then 'missing_{name}'"
        for name in EVENT_REQUIRED_FIELDS
    )
    bad_time = "\n".join(
        f"when not regexp_matches(json_extract_string(raw_line, '$.{name}'), '{ISO_WITH_OFFSET}') "
        f"or try_cast(json_extract_string(raw_line, '$.{name}') as timestamptz) is null "
        f"then 'unparseable_{name}'"
        for name in ("occurred_at", "received_at")
    )
    return f"""
        case
            when raw_line is null or trim(raw_line, ' \t\r') = '' then 'empty_line'
            when not json_valid(raw_line) then 'not_json'
            when json_type(raw_line) <> 'OBJECT' then 'not_a_json_object'
            {missing}
            {bad_time}
            when json_type(raw_line, '$.user_id') is not null
                and json_type(raw_line, '$.user_id') <> 'NULL'
                and (json_type(raw_line, '$.user_id') not in ('BIGINT', 'UBIGINT')
                     or try_cast(json_extract_string(raw_line, '$.user_id') as bigint) is null)
                then 'user_id_not_integer'
        end
    """


def event_files(raw_dir: Path) -> list[Path]:
    files = raw_files(raw_dir, "events/*/*.jsonl") + raw_files(raw_dir, "events/*/*.jsonl.gz")
    return sorted(files)


def land_events(
    raw_dir: Path,
    lake_dir: Path,
    con: duckdb.DuckDBPyConnection,
    deliveries: Collection[str] | None = None,
) -> LandingReport:
    """Land the event log: every delivery folder, or only `deliveries` (e.g. today's).

    Each delivery is one lake folder, partitioned inside by KST event date; landing all
    deliveries also drops lake folders whose raw folder is gone.
    """
    recover_interrupted_swaps(lake_dir)
    report = LandingReport(source="events")
    grouped = group_by_delivery(event_files(raw_dir), raw_dir, deliveries)
    base = lake_dir / "events"
    dates: set[str] = set()
    if not grouped:
        _validate_event_lines(con, [], raw_dir, lake_dir, report)
        _write_schema(con, lake_dir, base / "_schema.parquet", "valid_events")
    for delivery, files in grouped.items():
        _validate_event_lines(con, files, raw_dir, lake_dir, report)
        _write_schema(con, lake_dir, base / "_schema.parquet", "valid_events")
        report.rows_loaded += con.execute("select count(*) from valid_events").fetchone()[0]
        dates |= {
            str(row[0])
            for row in con.execute("select distinct event_date from valid_events").fetchall()
        }
        _publish_dir(
            con,
            lake_dir,
            base / delivery,
            "select * from valid_events order by event_date, _file, _line",
            partition_by="event_date",
        )
        _publish_quarantine(con, lake_dir, report, delivery)
        report.deliveries.append(delivery)
    if deliveries is None:
        _drop_stale(base, set(grouped))
        _drop_stale(lake_dir / "quarantine" / "events", set(grouped))
    report.partitions = sorted(dates)
    return report


def _validate_event_lines(
    con: duckdb.DuckDBPyConnection,
    files: list[Path],
    raw_dir: Path,
    lake_dir: Path,
    report: LandingReport,
) -> None:
    """Read `files` line by line into `valid_events` and `quarantine` (temp tables)."""
    scratch = lake_dir / ".scratch-events"
    con.execute(
        "create or replace temp table event_lines (file varchar, line bigint, raw_line varchar)"
    )
    con.execute(f"create or replace temp table quarantine ({QUARANTINE_COLUMNS})")
    for path in files:
        relative = path.relative_to(raw_dir).as_posix()
        report.files_read.append(relative)
        try:
            data = read_bytes(path)
        except (OSError, EOFError, zlib.error, gzip.BadGzipFile):
            _reject_file(
                con,
                report,
                relative,
                "unreadable_file",
                "not a readable (gzip) file: truncated or corrupt",
            )
            continue
        expected = count_lines(data)
        readable = readable_copy(path, data, scratch)
        _reset_rejects(con)
        try:
            con.execute(f"""
                create or replace temp table file_lines as
                select row_number() over () as rn, raw_line
                from read_csv('{sql_text(str(readable))}', columns = {{'raw_line': 'VARCHAR'}},
                    header = false, auto_detect = false, quote = '', escape = '',
                    delim = '{LINE_DELIMITER}', new_line = '\\n', strict_mode = false,
                    max_line_size = {MAX_LINE_BYTES}, ignore_errors = true, store_rejects = true,
                    rejects_table = 'rej_errors', rejects_scan = 'rej_scans')
            """)
        except duckdb.Error as error:
            _reject_file(con, report, relative, "unreadable_file", str(error).splitlines()[0])
            continue
        _number_accepted_rows(con, "file_lines", first_line=1)
        con.execute(
            "insert into event_lines select ?, line, raw_line from file_lines_numbered", [relative]
        )
        for line, kind, text in _rejected_rows(con):
            if kind == "TOO MANY COLUMNS":
                # The line holds the delimiter byte: it is still one line, validate it as such.
                con.execute("insert into event_lines values (?, ?, ?)", [relative, line, text])
            else:
                con.execute(
                    "insert into quarantine values ('events', ?, ?, ?, ?, ?)",
                    [relative, line, READER_REASONS.get(kind, "malformed_line"), kind, text],
                )
        report.rows_received += expected
        if readable != path:
            readable.unlink()
    shutil.rmtree(scratch, ignore_errors=True)

    con.execute(f"""
        create or replace temp table checked_events as
        select file, line, raw_line, {_event_checks()} as reason
        from event_lines
    """)
    con.execute("""
        insert into quarantine
        select 'events', file, line, reason, null, raw_line
        from checked_events
        where reason is not null
    """)
    con.execute("""
        create or replace temp table valid_events as
        with parsed as (
            select
                json_extract_string(raw_line, '$.event_id') as event_id,
                json_extract_string(raw_line, '$.event_name') as event_name,
                try_cast(json_extract_string(raw_line, '$.user_id') as bigint) as user_id,
                json_extract_string(raw_line, '$.device_id') as device_id,
                json_extract_string(raw_line, '$.occurred_at') as occurred_at_raw,
                json_extract_string(raw_line, '$.received_at') as received_at_raw,
                cast(json_extract_string(raw_line, '$.occurred_at') as timestamptz)
                    at time zone 'UTC' as occurred_at_utc,
                cast(json_extract_string(raw_line, '$.received_at') as timestamptz)
                    at time zone 'UTC' as received_at_utc,
                json_extract_string(raw_line, '$.platform') as platform,
                json_extract_string(raw_line, '$.app_version') as app_version,
                json_extract(raw_line, '$.properties')::varchar as properties,
                file as _file,
                split_part(file, '/', 2) as _delivery,
                line as _line
            from checked_events
            where reason is null
        )
        select
            *,
            -- Physical partitioning only: the KST date of the event time (SOURCES.md). The
            -- business definition lives in dbt (int_events_dated) and does not rely on it.
            cast(
                (case
                    when occurred_at_utc > received_at_utc + interval 5 minute then received_at_utc
                    else occurred_at_utc
                end) + interval 9 hour
                as date
            ) as event_date
        from parsed
    """)


# --------------------------------------------------------------------------------------
# CSV sources: database exports and reference tables
# --------------------------------------------------------------------------------------


def read_header(path: Path) -> list[str]:
    """The header row of a (possibly gzip) CSV file; [] for an empty file."""
    opener = gzip.open if path.name.endswith(".gz") else open
    # Only the header line is decoded here: a row with bytes that are not UTF-8 further down
    # is the reader's to quarantine (invalid_utf8), not a reason to reject the whole file.
    with opener(path, "rb") as handle:
        # utf-8-sig: a sheet saved by a spreadsheet program starts with a byte-order mark.
        first = handle.readline().decode("utf-8-sig")
    if not first.strip():
        return []
    return [name.strip() for name in next(csv.reader(io.StringIO(first)))]


def _typed_select(spec: TableSpec) -> str:
    parts = []
    for column in spec.columns:
        if column in spec.integer_columns:
            parts.append(f'try_cast(trim("{column}") as bigint) as "{column}"')
        elif column in spec.timestamp_columns:
            formats = ", ".join(f"'{fmt}'" for fmt in spec.timestamp_formats)
            parts.append(f'try_strptime(trim("{column}"), [{formats}]) as "{column}"')
        else:
            parts.append(f'"{column}"')
    return ",\n".join(parts)


def _row_checks(spec: TableSpec) -> str:
    """Reason and detail (the offending column) for a row that breaks SOURCES.md's rules."""
    checks: list[tuple[str, str, str]] = []
    if spec.primary_key:
        checks.append(
            (
                f"nullif(trim(\"{spec.primary_key}\"), '') is null",
                "missing_primary_key",
                spec.primary_key,
            )
        )
    for column in spec.integer_columns:
        checks.append(
            (
                f'nullif(trim("{column}"), \'\') is not null and (not regexp_matches("{column}", '
                f"'{INTEGER_TEXT}') or try_cast(trim(\"{column}\") as bigint) is null)",
                "unparseable_number",
                column,
            )
        )
    for column in spec.timestamp_columns:
        formats = ", ".join(f"'{fmt}'" for fmt in spec.timestamp_formats)
        checks.append(
            (
                f"nullif(trim(\"{column}\"), '') is not null "
                f'and try_strptime(trim("{column}"), [{formats}]) is null',
                "unparseable_timestamp",
                column,
            )
        )
    reason = "case " + " ".join(f"when {cond} then '{why}'" for cond, why, _ in checks) + " end"
    detail = "case " + " ".join(f"when {cond} then '{col}'" for cond, _, col in checks) + " end"
    return f"{reason} as reason, {detail} as detail"


def land_table(
    spec: TableSpec,
    raw_dir: Path,
    lake_dir: Path,
    con: duckdb.DuckDBPyConnection,
    deliveries: Collection[str] | None = None,
) -> LandingReport:
    """Land one CSV source, keeping each valid version with its file and line.

    A database export lands one folder per day file (all days, or only `deliveries`);
    a reference sheet is replaced whole.
    """
    recover_interrupted_swaps(lake_dir)
    report = LandingReport(source=spec.source)
    files = raw_files(raw_dir, spec.raw_glob)
    base = lake_dir / spec.folder / spec.source
    if spec.folder != "db":
        _validate_csv_files(spec, files, raw_dir, con, report)
        _publish_dir(con, lake_dir, base, "select * from valid_rows order by _file, _line")
        _publish_quarantine(con, lake_dir, report, "")
        return report
    files = [path for path in files if path.name.endswith((".csv", ".csv.gz"))]
    grouped = group_by_delivery(files, raw_dir, deliveries)
    if not grouped:
        _validate_csv_files(spec, [], raw_dir, con, report)
        _write_schema(con, lake_dir, base / "_schema.parquet", "valid_rows")
    for delivery, delivered in grouped.items():
        _validate_csv_files(spec, delivered, raw_dir, con, report)
        _write_schema(con, lake_dir, base / "_schema.parquet", "valid_rows")
        _publish_dir(
            con, lake_dir, base / delivery, "select * from valid_rows order by _file, _line"
        )
        _publish_quarantine(con, lake_dir, report, delivery)
        report.deliveries.append(delivery)
    if deliveries is None:
        _drop_stale(base, set(grouped))
        _drop_stale(lake_dir / "quarantine" / spec.source, set(grouped))
    return report


def _validate_csv_files(
    spec: TableSpec,
    files: list[Path],
    raw_dir: Path,
    con: duckdb.DuckDBPyConnection,
    report: LandingReport,
) -> None:
    """Read `files` into `valid_rows` and `quarantine` (temp tables); count into `report`."""
    columns_sql = ", ".join(f'"{c}" varchar' for c in spec.columns)
    con.execute(
        f"create or replace temp table landed ({columns_sql}, _file varchar, "
        "_file_date date, _line bigint, reason varchar, detail varchar, raw varchar)"
    )
    con.execute(f"create or replace temp table quarantine ({QUARANTINE_COLUMNS})")
    for path in files:
        relative = path.relative_to(raw_dir).as_posix()
        report.files_read.append(relative)
        _land_csv_file(spec, path, relative, con, report)

    con.execute(f"""
        insert into quarantine
        select '{spec.source}', _file, _line, reason, detail, raw
        from landed
        where reason is not null
    """)
    select = _typed_select(spec)
    delivery = "split_part(split_part(_file, '/', 3), '.', 1)" if spec.folder == "db" else "''"
    con.execute(f"""
        create or replace temp table valid_rows as
        select {select}, _file, _file_date, {delivery} as _delivery, _line
        from landed
        where reason is null
    """)
    report.rows_loaded += con.execute("select count(*) from valid_rows").fetchone()[0]


def _land_csv_file(
    spec: TableSpec,
    path: Path,
    relative: str,
    con: duckdb.DuckDBPyConnection,
    report: LandingReport,
) -> None:
    try:
        header = read_header(path)
    except (OSError, EOFError, UnicodeDecodeError, zlib.error, csv.Error) as error:
        _reject_file(con, report, relative, "unreadable_file", str(error), f"unreadable: {error}")
        return
    missing = [column for column in spec.columns if column not in header]
    extra = [column for column in header if column not in spec.columns]
    if extra:
        report.extra_columns[relative] = extra
    file_date = path.name.split(".")[0] if spec.folder == "db" else None
    _reset_rejects(con)
    if not header:
        _reject_file(
            con,
            report,
            relative,
            "missing_columns",
            "empty file: no header row",
            "empty file: no header row",
        )
        return
    header_columns = ", ".join(f"'{sql_text(name)}': 'VARCHAR'" for name in header)
    try:
        con.execute(f"""
            create or replace temp table file_rows as
            select row_number() over () as rn, *
            from read_csv('{sql_text(str(path))}', columns = {{{header_columns}}}, header = true,
                auto_detect = false, delim = ',', quote = '"', escape = '"', strict_mode = true,
                null_padding = false, max_line_size = {MAX_LINE_BYTES}, ignore_errors = true,
                store_rejects = true, rejects_table = 'rej_errors', rejects_scan = 'rej_scans')
        """)
    except duckdb.Error as error:
        _reject_file(con, report, relative, "unreadable_file", str(error).splitlines()[0])
        return
    _number_accepted_rows(con, "file_rows", first_line=2)
    received = con.execute("select count(*) from file_rows").fetchone()[0]
    rejected = _rejected_rows(con)
    report.rows_received += received + len(rejected)
    for line, kind, text in rejected:
        con.execute(
            f"insert into quarantine values ('{spec.source}', ?, ?, ?, ?, ?)",
            [relative, line, READER_REASONS.get(kind, "malformed_csv_row"), kind, text],
        )
    as_json = "to_json({" + ", ".join(f"'{sql_text(c)}': \"{c}\"" for c in header) + "})::varchar"
    if missing:
        # SOURCES.md: a file lacking a required column is rejected whole; its rows are kept
        # in quarantine so that nothing delivered is lost.
        detail = f"file lacks column(s): {', '.join(missing)}"
        report.rejected_files[relative] = detail
        con.execute(
            f"""
            insert into quarantine
            select '{spec.source}', ?, line, 'missing_columns', ?, {as_json}
            from file_rows_numbered
        """,
            [relative, detail],
        )
        return
    present = ", ".join(f'"{c}"' for c in spec.columns)
    con.execute(
        f"""
        insert into landed
        select {present}, ?, ?::date, line, reason, detail, {as_json}
        from (select *, {_row_checks(spec)} from file_rows_numbered)
    """,
        [relative, file_date],
    )


# --------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------


def _reject_file(
    con: duckdb.DuckDBPyConnection,
    report: LandingReport,
    file: str,
    reason: str,
    detail: str,
    summary: str | None = None,
) -> None:
    """A file that cannot be read as rows: one quarantine row for the whole file, counted
    as one received row so that received = loaded + quarantined still holds."""
    con.execute(
        "insert into quarantine values (?, ?, null, ?, ?, null)",
        [report.source, file, reason, detail],
    )
    report.rows_received += 1
    report.rejected_files[file] = summary or reason


def _publish_quarantine(
    con: duckdb.DuckDBPyConnection, lake_dir: Path, report: LandingReport, delivery: str
) -> None:
    """Swap in the quarantine of one delivery and add its reasons to the report."""
    rows = con.execute("select reason, count(*) from quarantine group by reason order by reason")
    for reason, count in rows.fetchall():
        report.quarantined_by_reason[reason] = report.quarantined_by_reason.get(reason, 0) + int(
            count
        )
    target = lake_dir / "quarantine" / report.source
    _publish_dir(
        con,
        lake_dir,
        target / delivery if delivery else target,
        "select * from quarantine order by file, line nulls first",
    )


def _write_schema(con: duckdb.DuckDBPyConnection, lake_dir: Path, path: Path, table: str) -> None:
    """A zero-row file with the source's columns: readers work before any delivery lands."""
    staging = _staging_root(lake_dir) / f"{uuid.uuid4().hex}.parquet"
    con.execute(
        f"copy (select * from {table} limit 0) to '{sql_text(str(staging))}' (format parquet)"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    staging.replace(path)


def _staging_root(lake_dir: Path) -> Path:
    """Where new lake folders are written before they are renamed into place: outside
    every folder a reader globs, on the same file system as the lake."""
    root = lake_dir / ".staging"
    root.mkdir(parents=True, exist_ok=True)
    return root


def _drop_stale(base: Path, keep: set[str]) -> None:
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


def _publish_dir(
    con: duckdb.DuckDBPyConnection,
    lake_dir: Path,
    target: Path,
    query: str,
    partition_by: str | None = None,
) -> None:
    """Write `query` as Parquet into a fresh directory, then swap it in with renames."""
    staging = _staging_root(lake_dir) / f"new-{uuid.uuid4().hex}"
    staging.mkdir()
    if partition_by:
        count = con.execute(f"select count(*) from ({query})").fetchone()[0]
        if count:
            con.execute(
                f"copy ({query}) to '{sql_text(str(staging))}' (format parquet, "
                f"partition_by ({partition_by}), write_partition_columns true)"
            )
    else:
        con.execute(
            f"copy ({query}) to '{sql_text(str(staging / 'data.parquet'))}' (format parquet)"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    swap_id = uuid.uuid4().hex
    retired = _staging_root(lake_dir) / f"old-{swap_id}"
    # Two renames are not one atomic step: a journal lets the next landing finish a swap
    # that a crash interrupted (see `recover_interrupted_swaps`).
    journal = _staging_root(lake_dir) / f"swap-{swap_id}.json"
    journal.write_text(
        json.dumps({"target": str(target), "new": str(staging), "old": str(retired)})
    )
    if target.exists():
        target.rename(retired)
    failpoints.reach("lake.swap")
    staging.rename(target)
    journal.unlink()
    shutil.rmtree(retired, ignore_errors=True)


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


def land_all(
    raw_dir: Path,
    lake_dir: Path,
    con: duckdb.DuckDBPyConnection,
    sources: Iterable[str] | None = None,
) -> dict[str, LandingReport]:
    """Land every source (or the named ones): the command-line path, and tests."""
    wanted = set(sources) if sources else None
    reports: dict[str, LandingReport] = {}
    if wanted is None or "events" in wanted:
        reports["events"] = land_events(raw_dir, lake_dir, con)
    for spec in [*DB_TABLES.values(), *REFERENCE_TABLES.values()]:
        if wanted is None or spec.source in wanted:
            reports[spec.source] = land_table(spec, raw_dir, lake_dir, con)
    return reports


def delivery_row_counts(lake_dir: Path, source: str) -> dict[str, int]:
    """Valid rows per delivery in the lake for a partitioned source (events or a db table)."""
    folder = lake_dir / "events" if source == "events" else lake_dir / "db" / source
    files = [path for path in folder.glob("*/**/*.parquet")] if folder.is_dir() else []
    if not files:
        return {}
    pattern = sql_text(str(folder))
    rows = duckdb.sql(f"""
        select _delivery, count(*)
        from read_parquet('{pattern}/*/**/*.parquet', union_by_name = true,
            hive_partitioning = false)
        group by 1 order by 1
    """).fetchall()
    return {str(delivery): int(count) for delivery, count in rows}
