"""What goes wrong upstream, on purpose: bad event lines, bad rows, odd export files.

Many rejection rules of the raw-source contract have a case here, so a build of the
sample exercises the quarantine: lines that are not JSON or not an object, a missing or
empty event_id, a missing device_id, timestamps without an offset or that do not parse,
user ids that are strings or floats; CSV rows with a missing key, a number or a timestamp
that does not parse; a file that lacks a required column (rejected whole) and one with an
extra column (ignored and reported). The rest (unreadable files, bytes that are not
UTF-8, over-long and empty lines, malformed CSV records, ...) are delivered by
tests/test_bad_input.py.
"""

from __future__ import annotations

from datetime import date, timedelta

BAD_EVENT_LINES = [
    "this is not json",
    '["an", "array", "not", "an", "object"]',
    '{"event_name":"app_open","user_id":1001,"device_id":"dev-x",'
    '"occurred_at":"{day}T10:00:00+09:00","received_at":"{day}T01:00:01Z","platform":"ios"}',
    '{"event_id":"","event_name":"app_open","user_id":1001,"device_id":"dev-x",'
    '"occurred_at":"{day}T10:00:00+09:00","received_at":"{day}T01:00:01Z","platform":"ios"}',
    '{"event_id":"bad-{n}-ts","event_name":"app_open","user_id":1001,"device_id":"dev-x",'
    '"occurred_at":"{day}T10:00:00","received_at":"{day}T01:00:01Z","platform":"ios"}',
    '{"event_id":"bad-{n}-uid","event_name":"app_open","user_id":"1001","device_id":"dev-x",'
    '"occurred_at":"{day}T10:00:00+09:00","received_at":"{day}T01:00:01Z","platform":"ios"}',
    '{"event_id":"bad-{n}-float","event_name":"app_open","user_id":1001.0,"device_id":"dev-x",'
    '"occurred_at":"{day}T10:00:00+09:00","received_at":"{day}T01:00:01Z","platform":"ios"}',
    '{"event_id":"bad-{n}-dev","event_name":"app_open","user_id":1001,'
    '"occurred_at":"{day}T10:00:00+09:00","received_at":"{day}T01:00:01Z","platform":"ios"}',
    '{"event_id":"bad-{n}-when","event_name":"app_open","user_id":null,"device_id":"dev-x",'
    '"occurred_at":"yesterday at noon","received_at":"{day}T01:00:01Z","platform":"web"}',
]


def bad_event_line(number: int, day: date) -> str | None:
    """The bad line planted in the `number`-th event file (every third collector-a file).

    The number of kinds is odd, so the kinds cycle through all files even when every other
    file number belongs to collector b.
    """
    if number % 3:
        return None
    template = BAD_EVENT_LINES[(number // 3) % len(BAD_EVENT_LINES)]
    return template.replace("{day}", day.isoformat()).replace("{n}", str(number))


BAD_ROW_DAYS = (4, 11, 19, 26)  # days after the start whose exports carry bad rows
EXTRA_COLUMN = ("users", 9, "marketing_opt_in")  # the export job briefly added a column
MISSING_COLUMN = ("posts", 12, "topic")  # the 12th posts file lacks a column: rejected whole


def bad_rows(table: str, day: date) -> list[dict[str, str]]:
    """Rows that break the contract, appended to an export file on a bad-row day."""
    stamp = f"{day.isoformat()} 12:00:00"
    if table == "listings":
        common = {
            "seller_id": "1001",
            "category_id": "1",
            "region_id": "1",
            "status": "on_sale",
            "created_at": stamp,
            "updated_at": stamp,
        }
        return [
            {**common, "listing_id": "", "title": "키 없음", "price_krw": "1000"},
            {
                **common,
                "listing_id": str(59990 + day.day),
                "title": "가격 오류",
                "price_krw": "12,000원",
            },
        ]
    if table == "trades":
        return [
            {
                "trade_id": str(79990 + day.day),
                "listing_id": "50001",
                "buyer_id": "1002",
                "seller_id": "1001",
                "price_krw": "5000",
                "status": "completed",
                "completed_at": f"{day.isoformat()} 25:61:00",
                "updated_at": stamp,
            }
        ]
    if table == "users":
        return [
            {
                "user_id": "u-unknown",
                "nickname": "잘못된행",
                "email": "bad@example.kr",
                "phone": "010-0000-0000",
                "region_id": "1",
                "signup_at": stamp,
                "status": "active",
                "updated_at": stamp,
            }
        ]
    return []


def is_bad_row_day(start: date, day: date) -> bool:
    return any(day == start + timedelta(days=n) for n in BAD_ROW_DAYS)
