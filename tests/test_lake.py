"""Landing raw files: every row loaded or quarantined with a reason, and the counts show it."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import duckdb
import pytest

from orchestration import landing

GOOD = {
    "event_id": "ok-1",
    "event_name": "app_open",
    "user_id": 5,
    "device_id": "d",
    "occurred_at": "2026-03-01T09:00:00+09:00",
    "received_at": "2026-03-01T00:00:01Z",
    "platform": "ios",
    "app_version": "1",
    "properties": {},
}


def good(**changes: object) -> str:
    return json.dumps({**GOOD, **changes}, ensure_ascii=False)


def without(field: str) -> str:
    return json.dumps({k: v for k, v in GOOD.items() if k != field})


BAD_EVENT_LINES = [
    ("not json at all", "not_json"),
    ('["an", "array"]', "not_a_json_object"),
    ("", "empty_line"),
    (without("event_id"), "missing_event_id"),
    (good(event_name=""), "missing_event_name"),
    (good(device_id=None), "missing_device_id"),
    (without("occurred_at"), "missing_occurred_at"),
    (good(received_at=""), "missing_received_at"),
    (good(occurred_at="2026-03-01T09:00:00"), "unparseable_occurred_at"),  # no offset
    (good(occurred_at="2026-13-01T09:00:00Z"), "unparseable_occurred_at"),
    (good(received_at="yesterday"), "unparseable_received_at"),
    (good(user_id="5"), "user_id_not_integer"),
    (good(user_id=5.0), "user_id_not_integer"),
    (good(user_id=True), "user_id_not_integer"),
    (good(user_id=2**63), "user_id_not_integer"),  # beyond BIGINT (found by Hypothesis)
]


def land_events(
    raw: Path, tmp_path: Path
) -> tuple[landing.LandingReport, duckdb.DuckDBPyConnection]:
    lake_dir = tmp_path / "lake"
    report = landing.land_events(raw, lake_dir, landing.connect())
    return report, duckdb.connect()


def write_events(raw: Path, name: str, lines: list[str]) -> Path:
    path = raw / "events" / "2026-03-01" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    data = ("\n".join(lines) + "\n").encode("utf-8")
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    return path


@pytest.mark.parametrize(("line", "reason"), BAD_EVENT_LINES, ids=[r for _, r in BAD_EVENT_LINES])
def test_each_bad_event_line_is_quarantined_with_its_reason_and_the_rest_loads(
    tmp_path: Path, line: str, reason: str
) -> None:
    raw = tmp_path / "raw"
    write_events(raw, "a.jsonl", [good(event_id="before"), line, good(event_id="after")])
    report, con = land_events(raw, tmp_path)
    assert report.quarantined_by_reason == {reason: 1}
    assert report.rows_loaded == 2 and report.rows_received == 3 and report.conserved
    [(file, number, why)] = con.execute(
        "select file, line, reason "
        f"from read_parquet('{tmp_path}/lake/quarantine/events/**/*.parquet')"
    ).fetchall()
    assert (file, number, why) == ("events/2026-03-01/a.jsonl", 2, reason)


def test_unknown_event_names_extra_fields_and_null_user_are_valid(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    extra = json.loads(good(event_id="x1", event_name="share_click", user_id=None))
    extra["client_meta"] = {"battery": 50}
    write_events(
        raw, "a.jsonl", [json.dumps(extra), good(event_id="x2", occurred_at="2026-03-01T00:00:00Z")]
    )
    report, _ = land_events(raw, tmp_path)
    assert report.rows_loaded == 2 and report.rows_quarantined == 0


def test_invalid_utf8_is_quarantined_by_line_and_gzip_files_are_read(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    path = write_events(raw, "b.jsonl", [good(event_id="a"), "PLACEHOLDER", good(event_id="c")])
    path.write_bytes(path.read_bytes().replace(b"PLACEHOLDER", b'{"event_id":"\xff\xfe"}'))
    write_events(
        raw, "c.jsonl.gz", [good(event_id="g1"), good(event_id="g2", properties={"q": "아이폰"})]
    )
    report, con = land_events(raw, tmp_path)
    assert report.quarantined_by_reason == {"invalid_utf8": 1}
    assert report.rows_loaded == 4 and report.conserved
    rows = con.execute(
        f"select file, line from read_parquet('{tmp_path}/lake/quarantine/events/**/*.parquet')"
    )
    assert rows.fetchall() == [("events/2026-03-01/b.jsonl", 2)]


def test_a_truncated_gzip_file_is_quarantined_whole_and_other_files_load(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    broken = write_events(raw, "broken.jsonl.gz", [good(event_id=f"b{n}") for n in range(200)])
    broken.write_bytes(broken.read_bytes()[:40])
    write_events(raw, "fine.jsonl", [good(event_id="f1")])
    report, _ = land_events(raw, tmp_path)
    assert report.rows_loaded == 1
    assert report.quarantined_by_reason == {"unreadable_file": 1}
    assert "events/2026-03-01/broken.jsonl.gz" in report.rejected_files


def test_events_are_partitioned_by_kst_event_date(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    write_events(
        raw,
        "a.jsonl",
        [
            good(
                event_id="late-evening",
                occurred_at="2026-03-01T23:30:00+09:00",
                received_at="2026-03-01T14:30:01Z",
            ),
            good(
                event_id="utc-next-day",
                occurred_at="2026-03-01T15:30:00Z",
                received_at="2026-03-01T15:30:01Z",
            ),
        ],
    )
    land_events(raw, tmp_path)
    partitions = sorted(p.name for p in (tmp_path / "lake" / "events").glob("*/event_date=*"))
    assert partitions == ["event_date=2026-03-01", "event_date=2026-03-02"]


USERS_HEADER = "user_id,nickname,email,phone,region_id,signup_at,status,updated_at"


def write_csv(raw: Path, table: str, day: str, text: str) -> None:
    path = raw / "db" / table / f"{day}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_bad_csv_rows_are_quarantined_by_reason_and_the_rest_load(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    write_csv(
        raw,
        "users",
        "2026-03-01",
        "\n".join(
            [
                USERS_HEADER,
                '1,"김, ""철수""",a@x.kr,010-1,1,2026-03-01 10:00:00,active,2026-03-01 10:00:00',
                ",nokey,b@x.kr,010-2,1,2026-03-01 10:00:00,active,2026-03-01 10:00:00",
                "3,num,c@x.kr,010-3,서울,2026-03-01 10:00:00,active,2026-03-01 10:00:00",
                "4,time,d@x.kr,010-4,1,2026/03/01 10:00,active,2026-03-01 10:00:00",
                "5,too,many,fields,1,2026-03-01 10:00:00,active,2026-03-01 10:00:00,extra",
                '6,"여러\n줄",e@x.kr,010-6,1,2026-03-01 10:00:00,active,2026-03-01 10:00:00',
            ]
        )
        + "\n",
    )
    report = landing.land_table(
        landing.DB_TABLES["users"], raw, tmp_path / "lake", landing.connect()
    )
    assert report.quarantined_by_reason == {
        "missing_primary_key": 1,
        "unparseable_number": 1,
        "unparseable_timestamp": 1,
        "too_many_fields": 1,
    }
    assert report.rows_loaded == 2 and report.rows_received == 6 and report.conserved
    loaded = duckdb.sql(
        "select user_id, nickname, _line "
        f"from read_parquet('{tmp_path}/lake/db/users/**/*.parquet') "
        "order by 1"
    ).fetchall()
    assert loaded == [(1, '김, "철수"', 2), (6, "여러\n줄", 7)]


def test_a_file_missing_a_column_is_rejected_whole_and_other_files_load(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    write_csv(
        raw,
        "users",
        "2026-03-01",
        "user_id,nickname,email,region_id,signup_at,status,updated_at\n"
        "1,a,a@x.kr,1,2026-03-01 10:00:00,active,2026-03-01 10:00:00\n",
    )
    write_csv(
        raw,
        "users",
        "2026-03-02",
        USERS_HEADER + ",marketing_opt_in\n"
        "2,b,b@x.kr,010,1,2026-03-02 10:00:00,active,2026-03-02 10:00:00,Y\n",
    )
    report = landing.land_table(
        landing.DB_TABLES["users"], raw, tmp_path / "lake", landing.connect()
    )
    assert report.rejected_files == {"db/users/2026-03-01.csv": "file lacks column(s): phone"}
    assert report.extra_columns == {"db/users/2026-03-02.csv": ["marketing_opt_in"]}
    assert report.quarantined_by_reason == {"missing_columns": 1}
    assert report.rows_loaded == 1 and report.conserved


def test_missing_raw_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(landing.RawDirectoryError, match="DONGNE_RAW_DIR"):
        landing.land_events(tmp_path / "nowhere", tmp_path / "lake", landing.connect())


def test_landing_twice_gives_the_same_lake(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    write_events(raw, "a.jsonl", [good(event_id=f"e{n}") for n in range(5)] + ["bad"])
    land_events(raw, tmp_path)
    first = duckdb.sql(
        f"select * from read_parquet('{tmp_path}/lake/events/**/*.parquet') order by all"
    ).fetchall()
    land_events(raw, tmp_path)
    second = duckdb.sql(
        f"select * from read_parquet('{tmp_path}/lake/events/**/*.parquet') order by all"
    ).fetchall()
    assert first == second and len(first) == 5
    hidden = [p.name for p in (tmp_path / "lake").iterdir() if p.name.startswith(".")]
    assert hidden in ([], [".staging"])
    assert not list((tmp_path / "lake" / ".staging").glob("*"))


def test_crlf_line_endings_give_one_row_per_line(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    path = raw / "events" / "2026-03-01" / "windows.jsonl"
    path.parent.mkdir(parents=True)
    path.write_bytes(f"{good(event_id='w1')}\r\nnot json\r\n{good(event_id='w2')}\r\n".encode())
    report, con = land_events(raw, tmp_path)
    assert (report.rows_received, report.rows_loaded) == (3, 2)
    assert report.quarantined_by_reason == {"not_json": 1}
    rows = con.execute(
        f"select line from read_parquet('{tmp_path}/lake/quarantine/events/**/*.parquet')"
    ).fetchall()
    assert rows == [(2,)]
    assert path.read_bytes().count(b"\r\n") == 3  # the delivered file is untouched


def test_a_reference_sheet_saved_with_a_byte_order_mark_loads(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    sheet = raw / "reference" / "regions.csv"
    sheet.parent.mkdir(parents=True)
    sheet.write_bytes(
        "\ufeffregion_id,city,district,neighborhood\r\n1,서울,마포구,서교동\r\n".encode()
    )
    report = landing.land_table(
        landing.REFERENCE_TABLES["regions"], raw, tmp_path / "lake", landing.connect()
    )
    assert report.rejected_files == {} and report.rows_loaded == 1
    rows = duckdb.sql(
        f"select region_id, neighborhood from read_parquet('{tmp_path}/lake/reference/regions/*')"
    ).fetchall()
    assert rows == [(1, "서교동")]


def lake_table(lake: Path, folder: str) -> list[tuple]:
    return duckdb.sql(
        f"select * from read_parquet('{lake}/{folder}/**/*.parquet', hive_partitioning = false) "
        "order by all"
    ).fetchall()


def test_events_landed_in_batches_equal_one_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shipped sample's events landed a delivery per query (a 1-byte batch budget) give
    the lake, the quarantine and the counts of one query over every delivery; a batch
    never splits a delivery."""
    raw = Path(__file__).resolve().parents[1] / "seeds"
    grouped = landing.events.group_by_delivery(
        landing.events.event_files(raw), raw, landing.events.EVERY_DELIVERY
    )
    assert len(grouped) > 30
    one = landing.events.delivery_batches(grouped, 2**40)
    each = landing.events.delivery_batches(grouped, 1)
    assert [list(b) for b in one] == [list(grouped)]
    assert [list(b) for b in each] == [[key] for key in grouped]
    size = sum(p.stat().st_size for key in list(grouped)[:3] for p in grouped[key])
    assert all(len(b) <= 3 for b in landing.events.delivery_batches(grouped, size))

    whole = landing.land_events(raw, tmp_path / "whole", landing.connect())
    monkeypatch.setattr(landing.events, "BATCH_BYTES", 1)
    batched = landing.land_events(raw, tmp_path / "batched", landing.connect())
    assert batched == whole and whole.rows_quarantined > 0
    for folder in ("events", "quarantine/events"):
        assert lake_table(tmp_path / "batched", folder) == lake_table(tmp_path / "whole", folder)
