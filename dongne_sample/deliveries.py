"""How the collector and the export job hand the data over: the raw directory's files.

The simulation's days are appended to an in-memory DuckDB database that spills to a
scratch folder past 3 GB (so 100M events fit in bounded memory), then written out file by
file by DuckDB: event lines as JSON text sorted by receipt (gzip for collector b), export
CSVs with RFC 4180 quoting (some listings files gzipped); the reference sheets are written
by Python's csv module.

The collector's habits: it delivers at least once (about 1 % of events come again, in
the same or a later file); phones offline for days deliver late; some phones' clocks run
ahead (by more than five minutes, or by exactly five); the web app stamps UTC, the
phones KST; newer clients send an unknown top-level field.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from dongne_sample.bad_input import (
    EXTRA_COLUMN,
    MISSING_COLUMN,
    bad_event_line,
    bad_rows,
    is_bad_row_day,
)
from dongne_sample.state import LABELS, LISTING_STATUS, Calendar, EventChunk, Versions
from dongne_sample.world import (
    ALL_DESCRIPTIONS,
    ALL_POST_BODIES,
    APP_VERSIONS,
    CATEGORIES,
    DAY,
    EVENT_NAMES,
    ITEMS,
    KST_OFFSET,
    MINUTE,
    PLATFORMS,
    POST_TOPICS,
    REGIONS,
    SCREENS,
    SEARCH_TERMS,
    SECOND,
    WEB_VERSION,
    Users,
)
from orchestration.landing.specs import DB_TABLES, REFERENCE_TABLES


def _sql_list(values: list[str | None]) -> str:
    return (
        "["
        + ", ".join("null" if v is None else "'" + v.replace("'", "''") + "'" for v in values)
        + "]"
    )


def _kst(column: str) -> str:
    return f"strftime(epoch_ms({column} + {KST_OFFSET}), '%Y-%m-%d %H:%M:%S')"


EVENT_LINE = f"""
    '{{"event_id":"' || printf('evt-%08d', seq)
    || '","event_name":"' || {_sql_list(EVENT_NAMES)}[name + 1]
    || '","user_id":' || coalesce(user_id::varchar, 'null')
    || ',"device_id":"' || case when user_id is null then printf('anon-%08x', device)
                                else printf('dev-%010x', device) end
    || '","occurred_at":"' || case when platform = 2
            then strftime(epoch_ms(occurred_ms), '%Y-%m-%dT%H:%M:%S.%g') || 'Z'
            else strftime(epoch_ms(occurred_ms + {KST_OFFSET}), '%Y-%m-%dT%H:%M:%S.%g') || '+09:00'
        end
    || '","platform":"' || {_sql_list(PLATFORMS)}[platform + 1]
    || '","app_version":"' || case when app_version < 0 then '{WEB_VERSION}'
                                   else {_sql_list(APP_VERSIONS)}[app_version + 1] end
    || '","properties":' || case
            when listing_id > 0 and category_id > 0
                then '{{"listing_id":' || listing_id || ',"category_id":' || category_id || '}}'
            when listing_id > 0 then '{{"listing_id":' || listing_id || '}}'
            when post_id > 0 then '{{"post_id":' || post_id || '}}'
            when screen >= 0 then '{{"screen":"' || {_sql_list(SCREENS)}[screen + 1] || '"}}'
            when query >= 0 then '{{"query":"' || {_sql_list(SEARCH_TERMS)}[query + 1]
                || '","filters":{{"region_only":' || region_only::varchar || '}}}}'
            when name = {EVENT_NAMES.index("share_click")} then '{{"channel":"kakao"}}'
            else '{{}}'
        end
    || ',"received_at":"' || strftime(epoch_ms(received_ms), '%Y-%m-%dT%H:%M:%S.%g') || 'Z"'
    || coalesce(',"client_meta":{{"battery":' || battery || '}}', '')
    || '}}'
"""

EXPORT_SELECTS = {
    "users": f"""
        select v.user_id, u.nickname, 'user' || v.user_id || '@example.kr' as email, u.phone,
            u.region_id, {_kst("u.signup_ms")} as signup_at,
            ['active', 'dormant', 'withdrawn'][v.status + 1] as status,
            {_kst("v.updated_ms")} as updated_at, v.user_id as _key, v.updated_ms as _moment, v._seq
        from (select 1001 + "user" as user_id, * from v_users) as v
        join people as u on u.user_id = v.user_id
    """,
    "listings": f"""
        select listing_id, 1001 + seller as seller_id, category_id, region_id,
            {_sql_list([title for title, _ in ITEMS])}[item + 1] as title,
            {_sql_list(ALL_DESCRIPTIONS)}[description + 1] as description,
            price as price_krw, {_sql_list(LISTING_STATUS)}[status + 1] as status,
            {_kst("created_ms")} as created_at, {_kst("updated_ms")} as updated_at,
            listing_id as _key, updated_ms as _moment, _seq
        from v_listings
    """,
    "trades": f"""
        select trade_id, listing_id, 1001 + buyer as buyer_id, 1001 + seller as seller_id,
            price as price_krw, case when completed = 1 then 'completed' else 'canceled' end
            as status, case when completed_ms >= 0 then {_kst("completed_ms")} end
            as completed_at, {_kst("updated_ms")} as updated_at,
            trade_id as _key, updated_ms as _moment, _seq
        from v_trades
    """,
    "posts": f"""
        select post_id, 1001 + author as author_id, p.region_id,
            {_sql_list(POST_TOPICS)}[topic + 1] as topic,
            {_sql_list(ALL_POST_BODIES)}[body + 1] as body,
            case when status = 1 then 'hidden' else 'visible' end as status,
            {_kst("created_ms")} as created_at, {_kst("updated_ms")} as updated_at,
            post_id as _key, updated_ms as _moment, _seq
        from v_posts join people as p on p.user_id = 1001 + author
    """,
    "moderation_labels": f"""
        select label_id, case when target_type = 0 then 'listing' else 'post' end
            as target_type, target_id, {_sql_list(LABELS)}[label + 1] as label,
            case when source = 1 then 'model' else 'human' end as source,
            {_kst("labeled_ms")} as labeled_at,
            null as _key, labeled_ms as _moment, _seq
        from v_moderation_labels
    """,
    "experiment_assignments": f"""
        select case when experiment = 0 then 'exp_safe_pay_banner'
                    else 'exp_search_ranking' end as experiment_id,
            1001 + "user" as user_id,
            case when experiment = 0 then ['control', 'treatment'][variant + 1]
                 else ['control', 'v_simple', 'v_rich'][variant + 1] end as variant,
            {_kst("assigned_ms")} as assigned_at,
            null as _key, assigned_ms as _moment, _seq
        from v_experiment_assignments
    """,
}


class Collector:
    """Applies the collector's habits to each day's events and files them in a scratch
    DuckDB database; `write_events` turns them into the raw directory's files."""

    def __init__(self, rng: np.random.Generator, calendar: Calendar, scratch: Path) -> None:
        self.rng, self.calendar = rng, calendar
        # In memory, spilling to `scratch` past the limit: no commit waits for the disk.
        self.con = duckdb.connect(config={"memory_limit": "3GB"})
        self.con.execute(f"set temp_directory = '{scratch}'")
        self.con.execute("set preserve_insertion_order = false")
        self.con.execute("set enable_progress_bar = false")
        self.next_seq = 1
        self.version_seq = 0
        self.counts: dict[str, int] = defaultdict(int)

    def add_events(self, chunk: EventChunk) -> None:
        if not len(chunk):
            return
        rng, size = self.rng, len(chunk)
        order = np.argsort(chunk.occurred_ms, kind="stable")
        occurred = chunk.occurred_ms[order]
        seq = np.arange(self.next_seq, self.next_seq + size)
        self.next_seq += size
        received = occurred + rng.integers(150, 4001, size=size)
        roll = rng.random(size)
        offline = roll < 0.012  # delivered one to four days later
        late = rng.integers(1, 5, size=size) * DAY + rng.integers(0, 301, size=size) * MINUTE
        received = np.where(offline, occurred + late, received)
        ahead = (roll >= 0.012) & (roll < 0.018)  # the phone's clock runs ahead
        shown = np.where(
            ahead, occurred + rng.choice(np.array([6, 45, 180]), size=size) * MINUTE, occurred
        )
        exactly = (roll >= 0.018) & (roll < 0.020)  # exactly five minutes ahead still counts
        shown = np.where(exactly, received + 5 * MINUTE, shown)
        battery = np.where(rng.random(size) < 0.01, rng.integers(5, 101, size=size), -1)
        collector = np.where(rng.random(size) < 0.4, "a", "b")
        again = received + rng.choice(np.array([1, 30, 4000, 90000]), size=size) * SECOND
        twice = (rng.random(size) < 0.01) & (again <= self.calendar.end_ms)
        delivered = received <= self.calendar.end_ms  # not delivered yet when the sample was cut
        rows = np.concatenate([np.flatnonzero(delivered), np.flatnonzero(twice & delivered)])
        copies = np.concatenate(
            [np.zeros(int(delivered.sum()), bool), np.ones(int((twice & delivered).sum()), bool)]
        )
        final_received = np.where(copies, again[rows], received[rows])
        user = chunk.user[order][rows]
        table = pa.table(
            {
                "seq": seq[rows],
                "user_id": pa.array(np.where(user >= 0, user + 1001, 0), mask=user < 0),
                "device": chunk.device[order][rows],
                "name": chunk.name[order][rows].astype(np.int8),
                "platform": chunk.platform[order][rows].astype(np.int8),
                "app_version": chunk.app_version[order][rows].astype(np.int8),
                "listing_id": chunk.listing_id[order][rows],
                "post_id": chunk.post_id[order][rows],
                "category_id": chunk.category_id[order][rows],
                "screen": chunk.screen[order][rows].astype(np.int8),
                "query": chunk.query[order][rows].astype(np.int8),
                "region_only": chunk.region_only[order][rows],
                "occurred_ms": shown[rows],
                "received_ms": final_received,
                "battery": pa.array(battery[rows], mask=battery[rows] < 0),
                "collector": np.where(copies, "a", collector[rows]),
                "received_day": (final_received // DAY).astype(np.int32),
            }
        )
        self.con.register("chunk", table)
        if "events" in self._tables():
            self.con.execute("insert into events select * from chunk")
        else:
            self.con.execute("create table events as select * from chunk")
        self.con.unregister("chunk")

    def add_versions(self, versions: Versions) -> None:
        for name, parts in versions.rows.items():
            for columns in parts:
                size = next(iter(columns.values())).size
                table = pa.table(
                    {
                        **columns,
                        "_seq": np.arange(self.version_seq, self.version_seq + size),
                    }
                )
                self.version_seq += size
                self.con.register("chunk", table)
                if f"v_{name}" in self._tables():
                    self.con.execute(f"insert into v_{name} by name select * from chunk")
                else:
                    self.con.execute(f"create table v_{name} as select * from chunk")
                self.con.unregister("chunk")

    def _tables(self) -> set[str]:
        return {
            row[0] for row in self.con.execute("select table_name from duckdb_tables()").fetchall()
        }

    # ---------------------------------------------------------------------------------
    def write_events(self, out: Path) -> None:
        files = self.con.execute(
            "select distinct received_day, collector from events order by 1, 2"
        ).fetchall()
        for number, (day_number, collector) in enumerate(files):
            day = date(1970, 1, 1) + timedelta(days=int(day_number))
            name = "collector-a.jsonl" if collector == "a" else "collector-b.jsonl.gz"
            path = out / "events" / day.isoformat() / name
            path.parent.mkdir(parents=True, exist_ok=True)
            where = f"received_day = {day_number} and collector = '{collector}'"
            lines = f"select {EVENT_LINE} as line, received_ms, seq from events where {where}"
            bad = bad_event_line(number, day) if collector == "a" else None
            if bad is not None:
                count = self.con.execute(f"select count(*) from events where {where}").fetchall()[
                    0
                ][0]
                position = int(self.rng.integers(0, count + 1))
                lines = f"""
                    select line, row_number() over (order by received_ms, seq) * 2 as position
                    from ({lines})
                    union all
                    select '{bad.replace("'", "''")}', {position} * 2 + 1
                """
                ordered = f"select line from ({lines}) order by position"
                self.counts["event_lines"] += 1
            else:
                ordered = f"select line from ({lines}) order by received_ms, seq"
            options = "format csv, header false, quote '', escape '', delimiter '\\x1f'"
            if collector == "b":
                options += ", compression gzip"
            self.con.execute(f"copy ({ordered}) to '{path}' ({options})").fetchall()
        self.counts["event_lines"] += self.con.execute("select count(*) from events").fetchall()[0][
            0
        ]

    def write_exports(self, out: Path, users: Users) -> None:
        start = self.calendar.start
        self.con.register(
            "people",
            pa.table(
                {
                    "user_id": users.user_id,
                    "nickname": users.nickname,
                    "phone": users.phone,
                    "region_id": users.region_id,
                    "signup_ms": users.signup_ms,
                }
            ),
        )
        first_day = (self.calendar.day(0) + KST_OFFSET) // DAY - 1
        file_number: dict[str, int] = defaultdict(int)
        for table, spec in DB_TABLES.items():
            self.con.execute(f"""
                create or replace temp table export as
                with versions as ({EXPORT_SELECTS[table]})
                select *, greatest((_moment + {KST_OFFSET}) // {DAY}, {first_day}) as _day
                from versions
                -- Changes after the window (a cancellation days later) are not exported
                -- yet when the sample is cut.
                where _moment <= {self.calendar.end_ms}
                qualify _key is null or row_number() over (
                    partition by _key, greatest((_moment + {KST_OFFSET}) // {DAY}, {first_day})
                    order by _moment desc, _seq desc
                ) = 1
            """)
            days = [
                row[0]
                for row in self.con.execute(
                    "select distinct _day from export order by 1"
                ).fetchall()
            ]
            for day_number in days:
                day = date(1970, 1, 1) + timedelta(days=int(day_number))
                file_number[table] += 1
                columns = list(spec.columns)
                select = ", ".join(f"{c}::varchar as {c}" for c in columns)
                query = f"select {select} from export where _day = {day_number}"
                if table == EXTRA_COLUMN[0] and day == start + timedelta(days=EXTRA_COLUMN[1]):
                    columns.append(EXTRA_COLUMN[2])
                    opted_in = "case when user_id::bigint % 2 = 0 then 'Y' else 'N' end"
                    query = f"select *, {opted_in} as {EXTRA_COLUMN[2]} from ({query})"
                if table == MISSING_COLUMN[0] and file_number[table] == MISSING_COLUMN[1]:
                    columns.remove(MISSING_COLUMN[2])
                    query = f"select * exclude ({MISSING_COLUMN[2]}) from ({query})"
                query = f"select * from ({query}) order by all"
                extra = bad_rows(table, day) if is_bad_row_day(start, day) else []
                if extra:
                    values = ", ".join(
                        "(" + ", ".join(_literal(row.get(c)) for c in columns) + ")"
                        for row in extra
                    )
                    query = f"select * from ({query}) union all select * from (values {values})"
                gz = table == "listings" and day.day % 5 == 0
                path = out / "db" / table / f"{day.isoformat()}.csv{'.gz' if gz else ''}"
                path.parent.mkdir(parents=True, exist_ok=True)
                options = (
                    "format csv, header true, delimiter ',', quote '\"', escape '\"', nullstr ''"
                )
                if gz:
                    options += ", compression gzip"
                self.con.execute(f"copy ({query}) to '{path}' ({options})").fetchall()
                self.counts[f"{table}_rows"] += self.con.execute(
                    f"select count(*) from export where _day = {day_number}"
                ).fetchall()[0][0] + len(extra)

    def close(self) -> None:
        self.con.close()


def _literal(value: str | None) -> str:
    return "null" if value is None else "'" + value.replace("'", "''") + "'"


def write_reference(out: Path, calendar: Calendar) -> None:
    """The business's hand-kept sheets: regions, categories, experiments, incidents."""

    def kst(ms: int) -> str:
        return datetime.fromtimestamp((ms + KST_OFFSET) / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")

    first, last = calendar.experiment
    experiments = [
        ("exp_safe_pay_banner", "안전결제 배너, 상세 화면", "control:0.5;treatment:0.5"),
        ("exp_search_ranking", "검색 랭킹 v2", "control:0.34;v_simple:0.33;v_rich:0.33"),
    ]
    outages = ["결제 API 장애 (PG사 timeout)", "채팅 서버 점검, 자정 넘김"]
    sheets = {
        "regions": REGIONS,
        "categories": CATEGORIES,
        "experiments": [
            (key, name, "control", split, kst(first), kst(last), "buyer_conversion")
            for key, name, split in experiments
        ],
        "incidents": [
            (f"INC-{n + 1:03d}", kst(begin), kst(end), text)
            for n, ((begin, end), text) in enumerate(zip(calendar.incidents, outages, strict=True))
        ],
    }
    for name, rows in sheets.items():
        path = out / "reference" / f"{name}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(REFERENCE_TABLES[name].columns)
            writer.writerows(rows)
