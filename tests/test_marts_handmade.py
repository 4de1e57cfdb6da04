"""A tiny hand-made delivery whose mart values are worked out by hand, here, in comments.

Users 1, 2, 3 and a logged-out device d3, over KST days 2026-03-01 .. 03-03:

  e1  user 1  03-01 09:00:00       session A starts
  e2  user 1  03-01 09:30:00       exactly 1,800 s later: still session A
      (e2 is delivered again a day later with another occurred_at: the first copy wins)
  e3  user 1  03-01 10:00:00.001   1,800.001 s later: session B
  e4  user 2  03-01 23:59:00       session C (KST date 03-01 although UTC date is 03-01 14:59)
  e5  user 2  phone says 03-02 12:00 but the collector got it at 09:10 KST: clock ahead,
              event time 03-02 09:10:00, session D
  e6  device d3, logged out, 03-02 17:00 KST (sent as UTC 08:00Z): session E, no user
  e7  user 1  03-03 10:00, delivered two days late (file of 03-05): session F, day 03-03
  e8  user 3  03-03 20:00: session G

Active users: 03-01 {1, 2}; 03-02 {2}; 03-03 {1, 3}.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import build_platform, query, tree_digest


def event(
    event_id: str,
    user_id: int | None,
    device: str,
    occurred: str,
    received: str,
    name: str = "app_open",
    **properties: object,
) -> str:
    return json.dumps(
        {
            "event_id": event_id,
            "event_name": name,
            "user_id": user_id,
            "device_id": device,
            "occurred_at": occurred,
            "received_at": received,
            "platform": "ios",
            "app_version": "23.4.1",
            "properties": properties,
        },
        ensure_ascii=False,
    )


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.name.endswith(".gz"):
        path.write_bytes(gzip.compress(text.encode("utf-8")))
    else:
        path.write_text(text, encoding="utf-8")


def make_raw(raw: Path) -> None:
    write(
        raw / "events/2026-03-01/app-a.jsonl",
        "\n".join(
            [
                event("e1", 1, "d1", "2026-03-01T09:00:00+09:00", "2026-03-01T00:00:01Z"),
                event("e2", 1, "d1", "2026-03-01T09:30:00+09:00", "2026-03-01T00:30:01Z"),
                "this line is not json",
                event("e3", 1, "d1", "2026-03-01T10:00:00.001+09:00", "2026-03-01T01:00:01Z"),
                event("e4", 2, "d2", "2026-03-01T23:59:00+09:00", "2026-03-01T14:59:01Z"),
                '{"event_name":"app_open","user_id":2,"device_id":"d2",'
                '"occurred_at":"2026-03-01T10:00:00+09:00","received_at":"2026-03-01T01:00:00Z"}',
            ]
        )
        + "\n",
    )
    write(
        raw / "events/2026-03-02/app-b.jsonl.gz",
        "\n".join(
            [
                # Re-delivery of e2 with a later received_at (and a different occurred_at): dropped.
                event("e2", 1, "d1", "2026-03-01T09:45:00+09:00", "2026-03-02T00:00:00Z"),
                event("e5", 2, "d2", "2026-03-02T12:00:00+09:00", "2026-03-02T00:10:00Z"),
                event("e6", None, "d3", "2026-03-02T08:00:00Z", "2026-03-02T08:00:01Z"),
                event("bad-uid", "7", "d7", "2026-03-02T08:00:00Z", "2026-03-02T08:00:01Z"),  # type: ignore[arg-type]
                event("bad-ts", 7, "d7", "2026-03-02T08:00:00", "2026-03-02T08:00:01Z"),
            ]
        )
        + "\n",
    )
    write(
        raw / "events/2026-03-05/app-a.jsonl",
        "\n".join(
            [
                event("e7", 1, "d1", "2026-03-03T10:00:00+09:00", "2026-03-05T00:00:00Z"),
                event("e8", 3, "d8", "2026-03-03T20:00:00+09:00", "2026-03-03T11:00:01Z"),
            ]
        )
        + "\n",
    )
    users = (
        "user_id,nickname,email,phone,region_id,signup_at,status,updated_at\n"
        + "\n".join(
            f"{uid},닉네임{uid},u{uid}@example.kr,010-0000-000{uid},1,2026-02-20 10:00:00,active,"
            "2026-02-20 10:00:00"
            for uid in (1, 2, 3)
        )
        + "\n"
    )
    write(raw / "db/users/2026-03-01.csv", users)
    listing_header = (
        "listing_id,seller_id,category_id,region_id,title,description,price_krw,status,"
        "created_at,updated_at\n"
    )
    write(
        raw / "db/listings/2026-03-01.csv",
        listing_header
        + '10,1,1,1,"의자, 원목","상태 좋아요\n직거래만",10000,on_sale,'
        + "2026-03-01 10:00:00,2026-03-01 10:00:00\n"
        "12,1,1,1,old,,3000,on_sale,2026-02-27 10:00:00,2026-03-01 11:00:00\n",
    )
    write(
        raw / "db/listings/2026-03-02.csv.gz",
        listing_header
        + '10,1,1,1,"의자, 원목",,8000,sold,2026-03-01 10:00:00,2026-03-02 09:00:00\n'
        "11,2,1,1,책상,,5000,on_sale,2026-03-02 11:00:00,2026-03-02 11:00:00\n",
    )
    trade_header = (
        "trade_id,listing_id,buyer_id,seller_id,price_krw,status,completed_at,updated_at\n"
    )
    write(
        raw / "db/trades/2026-03-02.csv",
        trade_header + "100,10,2,1,8000,completed,2026-03-02 15:00:00,2026-03-02 15:00:00\n"
        "101,11,3,2,5000,completed,2026-03-02 16:00:00,2026-03-02 16:00:00\n"
        ",11,3,2,5000,completed,2026-03-02 16:00:00,2026-03-02 16:00:00\n",
    )
    write(
        raw / "db/trades/2026-03-03.csv",
        trade_header + "101,11,3,2,5000,canceled,2026-03-02 16:00:00,2026-03-03 10:00:00\n"
        "102,10,3,1,7000,completed,2026-03-03 23:59:59,2026-03-03 23:59:59\n"
        "103,12,2,1,1000,completed,2026-03-03 12:00:00,2026-03-03 12:00:00\n",
    )
    # Same updated_at as the 03-03 version of trade 103: the later file wins (canceled).
    write(
        raw / "db/trades/2026-03-04.csv",
        trade_header + "103,12,2,1,1000,canceled,2026-03-03 12:00:00,2026-03-03 12:00:00\n",
    )
    write(
        raw / "reference/regions.csv",
        "region_id,city,district,neighborhood\n1,서울특별시,마포구,서교동\n",
    )
    write(raw / "reference/categories.csv", "category_id,name\n1,가구/인테리어\n")


@pytest.fixture(scope="module")
def handmade(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    raw = tmp_path_factory.mktemp("handmade") / "raw"
    make_raw(raw)
    data = tmp_path_factory.mktemp("handmade_data")
    before = tree_digest(raw)
    result = build_platform(raw, data)
    assert result.success
    assert tree_digest(raw) == before, "the raw directory must never be modified"
    yield raw, data / "analytics.duckdb"


def test_daily_active_users_by_hand(handmade: tuple[Path, Path]) -> None:
    _, db = handmade
    rows = query(
        db,
        "select activity_date::varchar, dau, wau, mau from marts.fct_daily_active_users order by 1",
    )
    assert rows == [
        ("2026-03-01", 2, 2, 2),  # {1, 2}
        ("2026-03-02", 1, 2, 2),  # {2}; week {1, 2}
        ("2026-03-03", 2, 3, 3),  # {1, 3}; week {1, 2, 3}
    ]


def test_growth_accounting_by_hand(handmade: tuple[Path, Path]) -> None:
    _, db = handmade
    rows = query(
        db,
        "select activity_date::varchar, new_users, retained_users, resurrected_users, "
        "churned_users from marts.fct_growth_accounting order by 1",
    )
    assert rows == [
        ("2026-03-01", 2, 0, 0, 0),  # 1 and 2 are new
        ("2026-03-02", 0, 1, 0, 1),  # 2 retained; 1 churned
        (
            "2026-03-03",
            1,
            0,
            1,
            1,
        ),  # 3 new; 1 back after a gap (first day 03-01 < 03-02); 2 churned
    ]


def test_sessions_by_hand(handmade: tuple[Path, Path]) -> None:
    _, db = handmade
    rows = query(
        db,
        """
        select user_id, device_id, session_start_at::varchar, session_end_at::varchar,
               session_date::varchar, duration_seconds, event_count
        from marts.fct_sessions order by session_start_at
    """,
    )
    assert rows == [
        (1, "d1", "2026-03-01 09:00:00", "2026-03-01 09:30:00", "2026-03-01", 1800.0, 2),  # A
        (1, "d1", "2026-03-01 10:00:00.001", "2026-03-01 10:00:00.001", "2026-03-01", 0.0, 1),  # B
        (2, "d2", "2026-03-01 23:59:00", "2026-03-01 23:59:00", "2026-03-01", 0.0, 1),  # C
        (2, "d2", "2026-03-02 09:10:00", "2026-03-02 09:10:00", "2026-03-02", 0.0, 1),  # D
        (None, "d3", "2026-03-02 17:00:00", "2026-03-02 17:00:00", "2026-03-02", 0.0, 1),  # E
        (1, "d1", "2026-03-03 10:00:00", "2026-03-03 10:00:00", "2026-03-03", 0.0, 1),  # F
        (3, "d8", "2026-03-03 20:00:00", "2026-03-03 20:00:00", "2026-03-03", 0.0, 1),  # G
    ]
    ids = query(db, "select count(distinct session_id) from marts.fct_sessions")
    assert ids == [(7,)]


def test_daily_marketplace_by_hand(handmade: tuple[Path, Path]) -> None:
    _, db = handmade
    rows = query(
        db,
        "select kpi_date::varchar, listings_created, completed_trades, gmv_krw "
        "from marts.fct_daily_marketplace order by 1",
    )
    assert rows == [
        ("2026-03-01", 1, 0, 0),  # listing 10 (12 was created before the calendar)
        ("2026-03-02", 1, 1, 8000),  # listing 11; trade 100 (101 was cancelled on 03-03)
        ("2026-03-03", 0, 1, 7000),  # trade 102; 103 lost the tie to the later file's cancel
    ]


def test_rejected_lines_are_quarantined_with_file_line_and_reason(
    handmade: tuple[Path, Path],
) -> None:
    _, db = handmade
    quarantine = db.parent / "lake" / "quarantine"
    rows = query(
        db,
        f"""
        select source, file, line, reason from read_parquet('{quarantine}/*/*.parquet') order by all
    """,
    )
    assert rows == [
        ("events", "events/2026-03-01/app-a.jsonl", 3, "not_json"),
        ("events", "events/2026-03-01/app-a.jsonl", 6, "missing_event_id"),
        ("events", "events/2026-03-02/app-b.jsonl.gz", 4, "user_id_not_integer"),
        ("events", "events/2026-03-02/app-b.jsonl.gz", 5, "unparseable_occurred_at"),
        ("trades", "db/trades/2026-03-02.csv", 4, "missing_primary_key"),
    ]


def test_published_database_holds_only_marts_and_ml_without_personal_data(
    handmade: tuple[Path, Path],
) -> None:
    _, db = handmade
    schemas = {row[0] for row in query(db, "select distinct schema_name from duckdb_tables()")}
    assert schemas <= {"marts", "ml"}
    columns = {row[0] for row in query(db, "select lower(column_name) from duckdb_columns()")}
    assert not columns & {"nickname", "email", "phone"}
    text = query(db, "select string_agg(session_id || device_id, '') from marts.fct_sessions")[0][0]
    assert "@example.kr" not in text and "닉네임" not in text
