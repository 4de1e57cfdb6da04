"""The app event log -> the event lake + quarantine, one DuckDB query per batch of deliveries.

Rules of the raw-source contract for event lines, in the order they are checked (the
first that fails names the reason a line is quarantined): the line is too long, is not
UTF-8, is empty, is not JSON, is not a JSON object, lacks a required field (or has it
empty or null), has a timestamp that does not parse or has no UTC offset, or has a
user_id that is not an integer. A rejected line never stops the rest of its file; a file
that cannot be read at all (a truncated gzip file) is one quarantined row naming it.

Lake layout: `events/<delivery>/event_date=YYYY-MM-DD/*.parquet`, one folder per
delivery (the raw day folder), every valid line kept with its file and line number
(duplicates are the warehouse's to resolve). Rejected lines go to
`quarantine/events/<delivery>/`.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa

from orchestration.landing.deliveries import delivery_key, event_files, group_by_delivery
from orchestration.landing.duck import scalar
from orchestration.landing.reader import EventLineStream
from orchestration.landing.report import LandingReport
from orchestration.landing.specs import (
    EVENT_FIELDS,
    EVENT_REQUIRED_FIELDS,
    ISO_WITH_OFFSET,
    MAX_LINE_BYTES,
)
from orchestration.landing.swap import (
    copy_to_folder,
    drop_stale,
    new_staging_dir,
    recover_interrupted_swaps,
    swap_in_partitions,
    write_schema,
)
from orchestration.window import EVERY_DELIVERY, DeliveryWindow

JSON_WHITESPACE = "' ' || chr(9) || chr(10) || chr(13)"
# Raw bytes of event files one landing query reads at most (more than one delivery's
# worth only when a delivery alone is larger): its temporary table of checked lines, and
# what DuckDB spills of it, follow a batch, not the whole history. At L (100M lines) one
# query over every delivery spilled over 40 GB before this.
BATCH_BYTES = 256 * 2**20
BLANK = "' ' || chr(9) || chr(13)"


def _field(name: str) -> str:
    """The SQL text of a top-level field (strings unquoted, objects as JSON text)."""
    return f"fields[{EVENT_FIELDS.index(name) + 1}] ->> '$'"


def _reason() -> str:
    """The first rule a line breaks, or null for a valid line.

    Cheap tests first: whole-line string functions run only on the few lines that are
    not JSON, and each timestamp is parsed once (in `fielded`).
    """
    missing = "\n".join(
        f"when nullif(trim({name}), '') is null then 'missing_{name}'"
        for name in EVENT_REQUIRED_FIELDS
    )
    bad_time = "\n".join(
        f"when {name}_utc is null or not regexp_matches({name}, '{ISO_WITH_OFFSET}') "
        f"then 'unparseable_{name}'"
        for name in ("occurred_at", "received_at")
    )
    return f"""
        case
            when octet_length(raw_bytes) > {MAX_LINE_BYTES} then 'line_too_long'
            when raw_line is null then 'invalid_utf8'
            when fields is null then
                case when trim(raw_line, {BLANK}) = '' then 'empty_line' else 'not_json' end
            when not (prefix(raw_line, '{{')
                or starts_with(ltrim(raw_line, {JSON_WHITESPACE}), '{{')) then 'not_a_json_object'
            {missing}
            {bad_time}
            when user_id_type is not null and user_id_type <> 'NULL'
                and (user_id_type not in ('BIGINT', 'UBIGINT')
                     or try_cast(user_id as bigint) is null)
                then 'user_id_not_integer'
        end
    """


def _checked_events_sql() -> str:
    """Every line with its reason; valid lines parsed into the lake's columns."""
    paths = "[" + ", ".join(f"'$.{name}'" for name in EVENT_FIELDS) + "]"
    fields = ",\n".join(f"{_field(name)} as {name}" for name in EVENT_FIELDS if name != "user_id")
    return f"""
        create or replace temp table checked_events as
        with
        lines as (
            select names.file, names._delivery, lines.line, lines.text as raw_bytes
            from event_lines as lines
            join event_file_names as names using (file_id)
        ),
        decoded as (
            select *, try(decode(raw_bytes)) as raw_line from lines
        ),
        extracted as (
            select
                *,
                case
                    when raw_line is not null and octet_length(raw_bytes) <= {MAX_LINE_BYTES}
                        then try(json_extract(raw_line, {paths}))
                end as fields
            from decoded
        ),
        fielded as (
            select
                *,
                {fields},
                {_field("user_id")} as user_id,
                json_type(fields[{EVENT_FIELDS.index("user_id") + 1}]) as user_id_type
            from extracted
        ),
        timed as (
            select
                *,
                try_cast(occurred_at as timestamptz) at time zone 'UTC' as occurred_at_utc,
                try_cast(received_at as timestamptz) at time zone 'UTC' as received_at_utc
            from fielded
        ),
        judged as (
            select *, {_reason()} as reason from timed
        ),
        final as (
            -- Columns of a rejected line are never written to the lake: only its reason
            -- and raw text (quarantine).
            select
                event_id,
                event_name,
                try_cast(user_id as bigint) as user_id,
                device_id,
                occurred_at as occurred_at_raw,
                received_at as received_at_raw,
                occurred_at_utc,
                received_at_utc,
                platform,
                app_version,
                fields[{EVENT_FIELDS.index("properties") + 1}]::varchar as properties,
                file as _file,
                _delivery,
                line as _line,
                reason,
                cast(null as varchar) as detail,
                case when reason is not null
                    then coalesce(raw_line, raw_bytes::varchar)
                end as raw
            from judged
        )
        select
            * exclude (reason, detail, raw),
            -- Physical partitioning only: the KST date of the event time. The business
            -- definition lives in dbt (int_events_dated) and does not rely on it.
            cast(
                (case
                    when occurred_at_utc > received_at_utc + interval 5 minute
                        then received_at_utc
                    else occurred_at_utc
                end) + interval 9 hour
                as date
            ) as event_date,
            reason,
            detail,
            raw
        from final
    """


VALID_EVENTS = "select * exclude (reason, detail, raw) from checked_events where reason is null"
QUARANTINED_EVENTS = """
    select 'events' as source, _file as file, _line as line, reason, detail, raw, _delivery
    from checked_events
    where reason is not null
"""


def land_events(
    raw_dir: Path,
    lake_dir: Path,
    con: duckdb.DuckDBPyConnection,
    window: DeliveryWindow = EVERY_DELIVERY,
) -> LandingReport:
    """Land the event log: every delivery folder, or only those `window` covers (e.g. today's).

    Deliveries are read in batches of about BATCH_BYTES of raw files (a delivery is never
    split), one query each; each delivery becomes one lake folder, partitioned inside by
    KST event date, swapped in as its batch is written. Landing every delivery also drops
    lake folders whose raw folder is gone.
    """
    recover_interrupted_swaps(lake_dir)
    report = LandingReport(source="events")
    grouped = group_by_delivery(event_files(raw_dir), raw_dir, window)
    partitions: set[str] = set()
    # No delivery at all is one empty batch: the lake's schema is still written.
    for batch in delivery_batches(grouped, BATCH_BYTES) or [{}]:
        _land_batch(raw_dir, lake_dir, con, batch, report, partitions)
    report.partitions = sorted(partitions)
    if window.is_every:
        drop_stale(lake_dir / "events", set(grouped))
        drop_stale(lake_dir / "quarantine" / "events", set(grouped))
    report.deliveries = list(grouped)
    return report


def delivery_batches(grouped: dict[str, list[Path]], budget: int) -> list[dict[str, list[Path]]]:
    """Deliveries (in order) in batches of at most `budget` bytes of raw files, except a
    delivery larger than that alone: what one landing query holds, whatever the history."""
    batches: list[dict[str, list[Path]]] = []
    size = 0
    for key, paths in grouped.items():
        delivered = sum(path.stat().st_size for path in paths)
        if not batches or size + delivered > budget:
            batches.append({})
            size = 0
        batches[-1][key] = paths
        size += delivered
    return batches


def _land_batch(
    raw_dir: Path,
    lake_dir: Path,
    con: duckdb.DuckDBPyConnection,
    grouped: dict[str, list[Path]],
    report: LandingReport,
    partitions: set[str],
) -> None:
    """Read, check and write one batch of deliveries, adding its counts to `report`."""
    files = [
        (path.relative_to(raw_dir).as_posix(), path) for paths in grouped.values() for path in paths
    ]
    stream = EventLineStream(files)
    names = pa.table(
        {
            "file_id": pa.array(range(len(files)), pa.int32()),
            "file": [relative for relative, _ in files],
            "_delivery": [delivery_key(relative) for relative, _ in files],
        }
    )
    con.register("event_file_names", names)
    con.register("event_lines", stream.reader())
    try:
        con.execute(_checked_events_sql())
    finally:
        con.unregister("event_lines")
        con.unregister("event_file_names")
    for outcome in stream.outcomes:
        report.files_read.append(outcome.relative)
        if outcome.error is not None:
            # A file that cannot be read as lines: one quarantine row for the whole file,
            # counted as one received row, so received = loaded + quarantined still holds.
            con.execute(
                "insert into checked_events (_file, _delivery, reason, detail) "
                "values (?, ?, 'unreadable_file', ?)",
                [outcome.relative, delivery_key(outcome.relative), outcome.error],
            )
            report.rejected_files[outcome.relative] = "unreadable_file"
            report.rows_received += 1
        report.rows_received += outcome.lines
    report.rows_loaded += int(
        scalar(con, "select count(*) from checked_events where reason is null")
    )
    report.count_quarantine(con, "checked_events where reason is not null")
    partitions.update(
        str(day)
        for (day,) in con.execute(
            "select distinct event_date from checked_events where reason is null"
        ).fetchall()
    )
    _write_lake(con, lake_dir, list(grouped))
    con.execute("drop table checked_events")


def _write_lake(con: duckdb.DuckDBPyConnection, lake_dir: Path, keys: list[str]) -> None:
    """Write valid and quarantined lines aside, then swap each delivery's folders in."""
    write_schema(con, lake_dir, lake_dir / "events" / "_schema.parquet", VALID_EVENTS)
    valid, quarantined = new_staging_dir(lake_dir), new_staging_dir(lake_dir)
    copy_to_folder(con, VALID_EVENTS, valid, partition_by="_delivery, event_date")
    copy_to_folder(con, QUARANTINED_EVENTS, quarantined, partition_by="_delivery", keep=False)
    swap_in_partitions(lake_dir, valid, "_delivery", lake_dir / "events", keys)
    swap_in_partitions(lake_dir, quarantined, "_delivery", lake_dir / "quarantine" / "events", keys)
