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

The same delivery carries an experiment, an incident, moderation labels and listings, so
that every contract table has values worked out by hand (in each test's comments).
"""

from __future__ import annotations

import gzip
import json
import math
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import TEST_SALT, build_platform, query, tree_digest
from tests.oracle import person_key
from tests.oracle_ml import moderation_labels
from tests.test_privacy import personal_data_findings, raw_personal_values


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
    signups = {1: "2026-02-20 10:00:00", 2: "2026-02-20 10:00:00", 3: "2026-03-02 09:00:00"}
    users = (
        "user_id,nickname,email,phone,region_id,signup_at,status,updated_at\n"
        + "\n".join(
            f"{uid},닉네임{uid},u{uid}@example.kr,010-0000-000{uid},1,{signups[uid]},active,"
            f"{signups[uid]}"
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
        "11,2,1,1,책상 팝니다 010 1234 5678,,5000,on_sale,2026-03-02 11:00:00,"
        "2026-03-02 11:00:00\n",
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
        raw / "reference/experiments.csv",
        "experiment_id,name,control_variant,variants,started_at,ended_at,primary_metric\n"
        "exp1,배너,control,control:0.5;treatment:0.5,2026-03-01 00:00:00,2026-03-04 00:00:00,"
        "buyer_conversion\n",
    )
    write(
        raw / "db/experiment_assignments/2026-03-01.csv",
        "experiment_id,user_id,variant,assigned_at\n"
        "exp1,1,control,2026-03-01 08:00:00\n"
        "exp1,2,treatment,2026-03-01 09:00:00\n"
        "exp1,3,treatment,2026-03-01 10:00:00\n",
    )
    write(
        raw / "reference/incidents.csv",
        "incident_id,started_at,ended_at,description\n"
        "INC-1,2026-03-03 23:00:00,2026-03-04 00:30:00,결제 장애\n",
    )
    write(
        raw / "db/moderation_labels/2026-03-02.csv",
        "label_id,target_type,target_id,label,source,labeled_at\n"
        "1,listing,10,ok,human,2026-03-02 10:00:00\n"
        "2,listing,10,spam,human,2026-03-02 10:00:00\n"
        "3,listing,10,fraud,model,2026-03-02 11:00:00\n"
        "4,listing,99,spam,human,2026-03-02 11:00:00\n"
        "5,listing,11,ok,human,2026-03-02 12:00:00\n"
        "6,post,500,ok,human,2026-03-02 12:00:00\n"
        "7,post,501,spam,human,2026-03-02 12:00:00\n",
    )
    # Phone numbers and e-mail addresses typed into text, in several spellings, between
    # Korean words: published as <phone> and <email> (docs/marts.md).
    write(
        raw / "db/posts/2026-03-02.csv",
        "post_id,author_id,region_id,topic,body,status,created_at,updated_at\n"
        + "\n".join(
            f'{post},1,1,동네질문,"{body}",visible,2026-03-02 10:00:00,2026-03-02 10:00:00'
            for post, body in POST_BODIES.items()
        )
        + "\n",
    )
    write(
        raw / "reference/regions.csv",
        "region_id,city,district,neighborhood\n1,서울특별시,마포구,서교동\n",
    )
    write(raw / "reference/categories.csv", "category_id,name\n1,가구/인테리어\n")


POST_BODIES = {
    500: "연락주세요010-1234-5678, 메일은kim.seller@naver.com로 주세요",
    501: "번호 01098765432 / +82 10-2222-3333 / 010.4444.5555,02-123-4567 "
    "주문번호 1010-1234-56789 그대로, 15000원",
}
SCRUBBED_BODIES = {
    500: "연락주세요<phone>, 메일은<email>로 주세요",
    501: "번호 <phone> / <phone> / <phone>,<phone> 주문번호 1010-1234-56789 그대로, 15000원",
}


def key(person_id: int | str | None) -> str | None:
    """The published key of a person's id (the contract's HMAC, computed independently)."""
    return person_key(person_id, TEST_SALT)


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
        select user_key, device_key, session_start_at::varchar, session_end_at::varchar,
               session_date::varchar, duration_seconds, event_count
        from marts.fct_sessions order by session_start_at
    """,
    )
    expected = [
        (1, "d1", "2026-03-01 09:00:00", "2026-03-01 09:30:00", "2026-03-01", 1800.0, 2),  # A
        (1, "d1", "2026-03-01 10:00:00.001", "2026-03-01 10:00:00.001", "2026-03-01", 0.0, 1),  # B
        (2, "d2", "2026-03-01 23:59:00", "2026-03-01 23:59:00", "2026-03-01", 0.0, 1),  # C
        (2, "d2", "2026-03-02 09:10:00", "2026-03-02 09:10:00", "2026-03-02", 0.0, 1),  # D
        (None, "d3", "2026-03-02 17:00:00", "2026-03-02 17:00:00", "2026-03-02", 0.0, 1),  # E
        (1, "d1", "2026-03-03 10:00:00", "2026-03-03 10:00:00", "2026-03-03", 0.0, 1),  # F
        (3, "d8", "2026-03-03 20:00:00", "2026-03-03 20:00:00", "2026-03-03", 0.0, 1),  # G
    ]
    # The user and the device are published as their keys only.
    assert rows == [(key(user), key(device), *rest) for user, device, *rest in expected]
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
        select source, file, line, reason
        from read_parquet('{quarantine}/**/*.parquet')
        order by all
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
    raw, db = handmade
    schemas = {row[0] for row in query(db, "select distinct schema_name from duckdb_tables()")}
    assert schemas <= {"marts", "ml"}
    columns = {row[0] for row in query(db, "select lower(column_name) from duckdb_columns()")}
    assert not columns & {"nickname", "email", "phone", "user_id", "seller_id", "device_id"}
    personal = raw_personal_values(raw)
    assert any("@example.kr" in value for value in personal)  # the exports hold some
    assert personal_data_findings(db, personal) == []  # every text column, every table


def test_retention_cohorts_by_hand(handmade: tuple[Path, Path]) -> None:
    # Calendar 03-01 (Sun) .. 03-03 (Tue): cohort weeks 02-23 and 03-02. Users 1 and 2
    # signed up on 02-20 (week 02-16: outside); user 3 on 03-02, active 03-03: week 0.
    _, db = handmade
    rows = query(
        db,
        "select cohort_week::varchar, weeks_since_signup, cohort_users, active_users, "
        "retention_rate from marts.fct_retention_cohorts order by 1, 2",
    )
    assert rows == [("2026-03-02", 0, 1, 1, 1.0)]


def test_experiment_results_by_hand(handmade: tuple[Path, Path]) -> None:
    # Control {1}: no purchase. Treatment {2, 3}: 2 bought trade 100 (03-02), 3 bought 102
    # (03-03 23:59:59); 3's trade 101 was cancelled. Rates 0 and 1; the control rate is 0,
    # so no lift. Pooled rate 2/3, se = sqrt(2/3 * 1/3 * (1/2 + 1/1)) = sqrt(1/3),
    # z = sqrt(3), p = erfc(sqrt(3) / sqrt(2)). SRM: 1 vs 2 against 1.5 each: chi-square
    # 1/3 with 1 degree of freedom, p = erfc(sqrt(1/6)).
    _, db = handmade
    control, treatment = query(
        db,
        "select variant, assigned_users, converted_users, conversion_rate, lift_vs_control, "
        "p_value, srm_p_value from marts.fct_experiment_results order by variant",
    )
    srm = math.erfc(math.sqrt(1 / 6))
    assert control[:6] == ("control", 1, 0, 0.0, None, None)
    assert treatment[:5] == ("treatment", 2, 2, 1.0, None)
    assert math.isclose(treatment[5], math.erfc(math.sqrt(1.5)), rel_tol=1e-12)
    assert math.isclose(control[6], srm, rel_tol=1e-12)
    assert math.isclose(treatment[6], srm, rel_tol=1e-12)


def test_incident_impact_by_hand(handmade: tuple[Path, Path]) -> None:
    # W = [03-03 23:00, 03-04 00:30): trade 102 at 23:59:59 (7,000). The four earlier
    # weeks hold no trades: baseline 0, so the "lost" figures are negative.
    _, db = handmade
    rows = query(
        db,
        "select incident_id, actual_trades, actual_gmv_krw, baseline_trades, baseline_gmv_krw, "
        "estimated_lost_trades, estimated_lost_gmv_krw from marts.fct_incident_impact",
    )
    assert rows == [("INC-1", 1, 7000, 0.0, 0.0, -1.0, -7000.0)]


def test_moderation_training_set_by_hand(handmade: tuple[Path, Path]) -> None:
    # Listing 10: ok (id 1) and spam (id 2) at the same second: spam; the model's fraud is
    # ignored. Listing 99 does not exist: left out. The current (03-02) version has no
    # description, which counts as empty. Typed phones and e-mails become placeholders.
    _, db = handmade
    rows = query(
        db,
        "select target_type, target_id, text, label from ml.moderation_training_set order by all",
    )
    assert rows == [
        ("listing", 10, "의자, 원목\n", "spam"),
        ("listing", 11, "책상 팝니다 <phone>\n", "ok"),
        ("post", 500, SCRUBBED_BODIES[500], "ok"),
        ("post", 501, SCRUBBED_BODIES[501], "spam"),
    ]
    # The independent implementation scrubs the same way.
    raw, _ = handmade
    assert sorted((*k, *v) for k, v in moderation_labels(raw).items()) == rows


def test_published_titles_are_scrubbed(handmade: tuple[Path, Path]) -> None:
    _, db = handmade
    for table in ("dim_listings", "dim_listing_history"):
        titles = query(db, f"select distinct title from marts.{table} where listing_id = 11")
        assert titles == [("책상 팝니다 <phone>",)], table


def test_listing_features_by_hand(handmade: tuple[Path, Path]) -> None:
    # Seller 1 (signed up 02-20 10:00) posted 12 on 02-27 10:00 and 10 on 03-01 10:00;
    # seller 2 (02-20 10:00) posted 11 on 03-02 11:00. Listing 10's first version cost
    # 10,000 (then 8,000). No trade completed before any listing; no listing_view events.
    _, db = handmade
    rows = query(
        db,
        "select listing_id, price_krw, seller_prior_listings, seller_prior_completed_trades, "
        "seller_account_age_days, views_72h, chats_72h "
        "from ml.listing_popularity_features order by 1",
    )
    assert rows == [
        (10, 10000, 1, 0, 9, 0, 0),  # 9 days exactly
        (11, 5000, 0, 0, 10, 0, 0),  # 10 days and an hour: 10
        (12, 3000, 0, 0, 7, 0, 0),
    ]
    keys = dict(query(db, "select listing_id, seller_key from ml.listing_popularity_features"))
    assert keys[10] == keys[12] != keys[11]


def test_daily_sessions_by_hand(handmade: tuple[Path, Path]) -> None:
    # 03-01: sessions A (1,800 s, 2 events), B, C (0 s, 1 event): mean 600 s, median 0,
    # 4/3 events; users 1 and 2. 03-02: D (user 2) and E (logged out). 03-03: F and G.
    _, db = handmade
    rows = query(
        db,
        "select session_date::varchar, sessions, users_with_sessions, logged_out_sessions, "
        "avg_duration_seconds, median_duration_seconds, avg_events_per_session "
        "from marts.fct_daily_sessions order by 1",
    )
    assert rows[0][:6] == ("2026-03-01", 3, 2, 0, 600.0, 0.0)
    assert math.isclose(rows[0][6], 4 / 3)
    assert rows[1:] == [
        ("2026-03-02", 2, 1, 1, 0.0, 0.0, 1.0),
        ("2026-03-03", 2, 2, 0, 0.0, 0.0, 1.0),
    ]


def test_signup_funnel_by_hand(handmade: tuple[Path, Path]) -> None:
    # User 1: listing 12 on 02-27, sold in trade 100 on 03-02 15:00. User 2: listing 11 on
    # 03-02 11:00, bought in trade 100. User 3 (signed up 03-02 09:00): bought trade 102 on
    # 03-03 23:59:59 (101 was cancelled). Nobody started a chat.
    _, db = handmade
    rows = query(
        db,
        "select user_key, first_listing_at::varchar, first_chat_at, first_trade_at::varchar, "
        "reached_listing, reached_chat, reached_trade from marts.fct_signup_funnel",
    )
    assert sorted(rows) == sorted(
        [
            (key(1), "2026-02-27 10:00:00", None, "2026-03-02 15:00:00", True, False, True),
            (key(2), "2026-03-02 11:00:00", None, "2026-03-02 15:00:00", True, False, True),
            (key(3), None, None, "2026-03-03 23:59:59", False, False, True),
        ]
    )


def test_segment_kpis_and_user_dimension_by_hand(handmade: tuple[Path, Path]) -> None:
    # One region and one category: the segment rows are the daily marketplace rows.
    # User 1: active 03-01 and 03-03, posted listings 10 and 12, sold trades 100 and 102.
    _, db = handmade
    segments = query(
        db,
        "select kpi_date::varchar, region_id, category_id, listings_created, completed_trades, "
        "gmv_krw from marts.fct_daily_marketplace_by_segment order by 1",
    )
    assert segments == [
        ("2026-03-01", 1, 1, 1, 0, 0),
        ("2026-03-02", 1, 1, 1, 1, 8000),
        ("2026-03-03", 1, 1, 0, 1, 7000),
    ]
    users = query(
        db,
        "select user_key, active_days, listings_created, completed_purchases, completed_sales, "
        "cohort_week::varchar from marts.dim_users",
    )
    assert sorted(users) == sorted(
        [
            (key(1), 2, 2, 0, 2, "2026-02-16"),
            (key(2), 2, 1, 1, 0, "2026-02-16"),
            (key(3), 1, 0, 1, 0, "2026-03-02"),
        ]
    )
