"""CSV sources (database exports, reference sheets) -> the lake + quarantine.

Rules of the raw-source contract for CSV rows: a row whose primary key is missing, or
whose number or timestamp does not parse, is quarantined with its file, line and reason;
a row DuckDB's RFC 4180 reader cannot read (too many or too few fields, bytes that are
not UTF-8, an unterminated quote) likewise; a file that lacks a required column is
rejected whole (its rows kept in quarantine, so nothing delivered is lost), and a file
that cannot be read at all (or has no header) is one quarantined row naming it; extra
columns are ignored and reported.

All files of a source with the same header are read in one DuckDB scan. A "line" is the
physical line on which a record starts (the header is line 1). What was received is
counted by csv_reader.py, independently of DuckDB's reader: every record and every empty
line, which DuckDB skips without a word and which is quarantined (`empty_line`) like an
empty event line.

Lake layout: `db/<table>/<delivery>/` (Parquet) per day file, with the columns in a
zero-row `db/<table>/_schema.parquet`, and `reference/<name>/data.parquet`; rejected rows
in `quarantine/<source>/[<delivery>/]`.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa

from orchestration.landing.csv_reader import READER_REASONS, CsvFile
from orchestration.landing.deliveries import (
    group_by_delivery,
    raw_files,
    source_files,
)
from orchestration.landing.duck import scalar, sql_list, sql_text
from orchestration.landing.report import LandingReport
from orchestration.landing.specs import INTEGER_TEXT, MAX_LINE_BYTES, TableSpec
from orchestration.landing.swap import (
    copy_to_folder,
    drop_stale,
    new_staging_dir,
    recover_interrupted_swaps,
    swap_in,
    swap_in_partitions,
    write_schema,
)
from orchestration.window import EVERY_DELIVERY, DeliveryWindow


def _typed_select(spec: TableSpec) -> str:
    parts = []
    formats = ", ".join(f"'{fmt}'" for fmt in spec.timestamp_formats)
    for column in spec.columns:
        if column in spec.integer_columns:
            parts.append(f'try_cast(trim("{column}") as bigint) as "{column}"')
        elif column in spec.timestamp_columns:
            parts.append(f'try_strptime(trim("{column}"), [{formats}]) as "{column}"')
        else:
            parts.append(f'"{column}"')
    return ",\n".join(parts)


def _row_checks(spec: TableSpec) -> tuple[str, str]:
    """SQL for the reason and detail (the offending column) of a row that breaks a rule."""
    checks: list[tuple[str, str, str]] = []
    if spec.primary_key:
        key = spec.primary_key
        checks.append((f"nullif(trim(\"{key}\"), '') is null", "missing_primary_key", key))
    for column in spec.integer_columns:
        checks.append(
            (
                f'nullif(trim("{column}"), \'\') is not null and (not regexp_matches("{column}", '
                f"'{INTEGER_TEXT}') or try_cast(trim(\"{column}\") as bigint) is null)",
                "unparseable_number",
                column,
            )
        )
    formats = ", ".join(f"'{fmt}'" for fmt in spec.timestamp_formats)
    for column in spec.timestamp_columns:
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
    return reason, detail


def land_table(
    spec: TableSpec,
    raw_dir: Path,
    lake_dir: Path,
    con: duckdb.DuckDBPyConnection,
    window: DeliveryWindow = EVERY_DELIVERY,
) -> LandingReport:
    """Land one CSV source, keeping each valid version with its file and line.

    A database export lands one folder per day file (all days, or only those `window` covers);
    a reference sheet is replaced whole.
    """
    recover_interrupted_swaps(lake_dir)
    report = LandingReport(source=spec.source)
    if spec.partitioned:
        grouped = group_by_delivery(source_files(raw_dir, spec.source), raw_dir, window)
    else:
        grouped = {"": raw_files(raw_dir, spec.raw_glob)}
    files = [
        CsvFile(spec, path, path.relative_to(raw_dir).as_posix())
        for paths in grouped.values()
        for path in paths
    ]
    _check_rows(spec, files, con, report)
    base = lake_dir / spec.folder / spec.source
    quarantine = lake_dir / "quarantine" / spec.source
    valid = f"""
        select {_typed_select(spec)}, _file, _file_date, _delivery, _line
        from landed where reason is null
    """
    rejected = f"""
        select '{spec.source}' as source, _file as file, _line as line, reason, detail, raw,
            _delivery
        from landed where reason is not null
    """
    if spec.partitioned:
        write_schema(con, lake_dir, base / "_schema.parquet", valid)
        written, rejected_written = new_staging_dir(lake_dir), new_staging_dir(lake_dir)
        copy_to_folder(con, valid, written, partition_by="_delivery")
        copy_to_folder(con, rejected, rejected_written, partition_by="_delivery", keep=False)
        swap_in_partitions(lake_dir, written, "_delivery", base, list(grouped))
        swap_in_partitions(lake_dir, rejected_written, "_delivery", quarantine, list(grouped))
        if window.is_every:
            drop_stale(base, set(grouped))
            drop_stale(quarantine, set(grouped))
        report.deliveries = list(grouped)
    else:
        written, rejected_written = new_staging_dir(lake_dir), new_staging_dir(lake_dir)
        copy_to_folder(con, f"{valid} order by _file, _line", written)
        copy_to_folder(
            con,
            f"select * exclude (_delivery) from ({rejected}) order by file, line nulls first",
            rejected_written,
        )
        swap_in(lake_dir, written, base)
        swap_in(lake_dir, rejected_written, quarantine)
    return report


def _check_rows(
    spec: TableSpec, files: list[CsvFile], con: duckdb.DuckDBPyConnection, report: LandingReport
) -> None:
    """Read `files` into the temp table `landed`: every record with its line, and a reason
    for each one that breaks a rule (null for a valid row); count into `report`."""
    columns_sql = ", ".join(f'"{c}" varchar' for c in spec.columns)
    con.execute(
        f"create or replace temp table landed ({columns_sql}, _file varchar, _file_date date, "
        "_delivery varchar, _line bigint, reason varchar, detail varchar, raw varchar)"
    )
    by_header: dict[tuple[str, ...], list[CsvFile]] = {}
    for file in files:
        report.files_read.append(file.relative)
        if file.extra:
            report.extra_columns[file.relative] = file.extra
        if file.error is not None or not file.header:
            why = file.error or "empty file: no header row"
            reason = "unreadable_file" if file.error else "missing_columns"
            _reject_file(con, report, file, reason, why)
            continue
        by_header.setdefault(tuple(file.header), []).append(file)
    for header, group in by_header.items():
        _scan_group(spec, list(header), group, con, report)
    report.rows_loaded = int(scalar(con, "select count(*) from landed where reason is null"))
    report.count_quarantine(con, "landed where reason is not null")


def _reject_file(
    con: duckdb.DuckDBPyConnection, report: LandingReport, file: CsvFile, reason: str, why: str
) -> None:
    """A file that cannot be read as rows: one quarantine row for the whole file, counted
    as one received row so that received = loaded + quarantined still holds."""
    con.execute(
        "insert into landed (_file, _file_date, _delivery, reason, detail) "
        "values (?, ?::date, ?, ?, ?)",
        [file.relative, file.file_date, file.delivery, reason, why],
    )
    report.rows_received += 1
    report.rejected_files[file.relative] = why if reason == "missing_columns" else reason


def _scan_group(
    spec: TableSpec,
    header: list[str],
    group: list[CsvFile],
    con: duckdb.DuckDBPyConnection,
    report: LandingReport,
) -> None:
    """One DuckDB scan over every file with this header; their rows into `landed`."""
    con.execute("drop table if exists rej_errors")
    con.execute("drop table if exists rej_scans")
    header_columns = ", ".join(f"'{sql_text(name)}': 'VARCHAR'" for name in header)
    paths = sql_list([str(file.path) for file in group])
    try:
        con.execute(f"""
            create or replace temp table scanned as
            select *
            from read_csv({paths}, columns = {{{header_columns}}}, header = true,
                auto_detect = false, delim = ',', quote = '"', escape = '"', strict_mode = true,
                null_padding = false, max_line_size = {MAX_LINE_BYTES}, ignore_errors = true,
                store_rejects = true, rejects_table = 'rej_errors', rejects_scan = 'rej_scans',
                filename = '_path')
        """)
    except duckdb.Error as error:
        if len(group) > 1:  # find the file DuckDB cannot read; the others still load
            for file in group:
                _scan_group(spec, header, [file], con, report)
            return
        _reject_file(con, report, group[0], "unreadable_file", str(error).splitlines()[0])
        return
    con.register(
        "scanned_files",
        pa.table(
            {
                "_path": [str(file.path) for file in group],
                "_file": [file.relative for file in group],
                "_file_date": [file.file_date for file in group],
                "_delivery": [file.delivery for file in group],
                "missing": [", ".join(file.missing) for file in group],
            }
        ),
    )
    con.register(
        "record_starts",
        pa.table(
            {
                "_path": [str(file.path) for file in group for _ in file.record_lines],
                "line": pa.array(
                    [line for file in group for line in file.record_lines], pa.int64()
                ),
            }
        ),
    )
    try:
        _insert_scanned(spec, header, con)
    finally:
        con.unregister("scanned_files")
        con.unregister("record_starts")
    for file in group:
        _insert_empty_lines(con, file)
        # Received: counted from the file itself, not from what the reader returned.
        report.rows_received += len(file.record_lines) + len(file.empty_lines)
    for file in group:
        if file.missing:
            missing = ", ".join(file.missing)
            report.rejected_files[file.relative] = f"file lacks column(s): {missing}"


def _insert_empty_lines(con: duckdb.DuckDBPyConnection, file: CsvFile) -> None:
    """Each empty line of `file` into `landed`, quarantined (DuckDB's reader skips them)."""
    if file.empty_lines:
        con.executemany(
            "insert into landed (_file, _file_date, _delivery, _line, reason, detail, raw) "
            "values (?, ?::date, ?, ?, 'empty_line', 'an empty line between records', '')",
            [[file.relative, file.file_date, file.delivery, line] for line in file.empty_lines],
        )


def _insert_scanned(spec: TableSpec, header: list[str], con: duckdb.DuckDBPyConnection) -> None:
    """Number the scanned records and insert them, and the reader's rejects, into `landed`.

    DuckDB names a rejected record by the physical line it starts on and skips it, so the
    n-th accepted record of a file starts on the n-th record line (counted by
    `record_lines`) that is not a rejected record's line.
    """
    con.execute("""
        create or replace temp table rejected_records as
        select
            scans.file_path as _path,
            errors.line,
            errors.error_type::varchar as error_type,
            errors.csv_line
        from rej_errors as errors
        join rej_scans as scans using (scan_id, file_id)
        qualify row_number() over (
            partition by scans.file_path, errors.line order by errors.column_idx nulls last
        ) = 1
    """)
    reader_reasons = (
        "case error_type "
        + " ".join(f"when '{kind}' then '{why}'" for kind, why in READER_REASONS.items())
        + " else 'malformed_csv_row' end"
    )
    con.execute(f"""
        insert into landed (_file, _file_date, _delivery, _line, reason, detail, raw)
        select files._file, files._file_date::date, files._delivery, rejected.line,
            {reader_reasons}, rejected.error_type, rejected.csv_line
        from rejected_records as rejected
        join scanned_files as files using (_path)
    """)
    present = ", ".join(f'"{c}"' for c in spec.columns)
    absent = "".join(f', null::varchar as "{c}"' for c in spec.columns if c not in header)
    as_json = "to_json({" + ", ".join(f"'{sql_text(c)}': \"{c}\"" for c in header) + "})::varchar"
    reason, detail = _row_checks(spec)
    con.execute(f"""
        insert into landed
        with
        accepted as (
            select *{absent}, row_number() over (partition by _path order by rowid) as rn
            from scanned
        ),
        candidate_lines as (
            select _path, line from record_starts
        ),
        free_lines as (
            select
                _path,
                line,
                row_number() over (partition by _path order by line) as rn
            from candidate_lines
            anti join rejected_records using (_path, line)
        ),
        numbered as (
            -- A left join: were the reader to return a record the count above did not
            -- see, it is kept (without a line), and received <> loaded + quarantined says so.
            -- Except in a file with a rejected record: after a stray quote the reader can
            -- also return a fragment of the record it rejected (seen: `","0,","a,b"`
            -- rejected on its line, and `,"` / `b"` returned as a row). The record is
            -- quarantined on its line already; its fragment is not a record of the file.
            select accepted.*, free_lines.line as _line
            from accepted
            left join free_lines using (_path, rn)
            where
                free_lines.line is not null
                or accepted._path not in (select rejected._path from rejected_records as rejected)
        ),
        checked as (
            select
                *,
                case when files.missing <> '' then 'missing_columns' else {reason} end as reason,
                case
                    when files.missing <> '' then 'file lacks column(s): ' || files.missing
                    else {detail}
                end as detail
            from numbered
            join scanned_files as files using (_path)
        )
        select
            {present},
            _file,
            _file_date::date,
            _delivery,
            _line,
            reason,
            detail,
            case when reason is not null then {as_json} end as raw
        from checked
    """)
