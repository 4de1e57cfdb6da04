"""Generate a realistic raw delivery of Dongne Market data, in the SOURCES.md layout.

The sample is what a new developer, a test and a demo run on, so it carries every
edge case SOURCES.md names: at-least-once delivery (duplicates in the same and in a
later file), late events from offline phones, phones whose clock runs ahead, bad
lines and bad rows, a CSV file missing a column, an extra column, gzip files, RFC
4180 quoting with Korean text and line breaks, price changes, trades cancelled
after completion, an experiment with a user in two variants, and incidents with
four weeks of history before them.

Deterministic: the same arguments always write byte-identical files.

    python -m orchestration.sample_data --users 260 --days 42 --seed 7 --out seeds
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import random
import shutil
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

from orchestration.landing import DB_TABLES

KST = timezone(timedelta(hours=9))
UTC = UTC

EVENT_NAMES_BROWSE = ["screen_view", "search", "listing_view", "post_view", "like"]
SCREENS = ["home", "search", "listing_detail", "chat_list", "my_page", "neighborhood"]
SEARCH_TERMS = [
    "아이폰",
    "자전거",
    "유모차",
    "의자",
    "책상",
    "캠핑",
    "닌텐도",
    "에어팟",
    "패딩",
    "화분",
]

REGIONS = [
    (1, "서울특별시", "마포구", "서교동"),
    (2, "서울특별시", "마포구", "망원동"),
    (3, "서울특별시", "관악구", "봉천동"),
    (4, "서울특별시", "강남구", "역삼동"),
    (5, "서울특별시", "송파구", "잠실동"),
    (6, "서울특별시", "성동구", "성수동"),
    (7, "경기도", "성남시 분당구", "정자동"),
    (8, "경기도", "수원시 영통구", "매탄동"),
]
CATEGORIES = [
    (1, "디지털기기"),
    (2, "가구/인테리어"),
    (3, "유아동"),
    (4, "생활가전"),
    (5, "여성의류"),
    (6, "도서"),
    (7, "스포츠/레저"),
    (8, "반려동물용품"),
]
ITEMS = {
    1: [("아이폰 13 미니", 420000), ("에어팟 프로", 120000), ("갤럭시 탭 S7", 300000)],
    2: [("원목 책상", 60000), ("패브릭 소파", 150000), ("IKEA 의자", 20000)],
    3: [("유모차 (상태 좋아요)", 90000), ("아기 옷 묶음", 15000), ("카시트", 70000)],
    4: [("미니 냉장고", 80000), ("전기밥솥", 40000), ("공기청정기", 110000)],
    5: [("롱패딩, 거의 새것", 70000), ('"정품" 니트', 25000), ("원피스", 18000)],
    6: [("소설책 10권", 12000), ("토익 문제집", 8000), ("만화책 전권", 45000)],
    7: [("로드 자전거", 250000), ("캠핑 의자 2개", 30000), ("요가매트", 5000)],
    8: [("고양이 캣타워", 35000), ("강아지 하네스", 9000), ("자동 급식기", 28000)],
}
SPAM_TEXTS = [
    "부업 모집! 하루 10분 투자로 월 300 보장, 카톡 주세요",
    "무료 나눔 이벤트 당첨! 링크 클릭하세요 http://bit.example",
]
FRAUD_TEXTS = ["선입금만 받아요, 직거래 불가", "계좌이체 먼저 해주시면 택배 보내드려요"]
PROHIBITED_TEXTS = ["처방 의약품 팝니다", "담배 한 보루 판매"]
ABUSIVE_TEXTS = ["이 동네 사람들 진짜 왜 이래, 바보들"]
POST_TOPICS = ["동네질문", "분실/실종", "맛집", "동네소식", "취미"]
POST_BODIES = [
    '혹시 망원시장 근처에 "24시간" 약국 있나요?\n급해요!',
    "고양이 잃어버렸어요. 회색 줄무늬, 이름은 '나비'입니다.",
    "성수동 새로 생긴 빵집, 소금빵 맛있어요 :)",
    "주말에 같이 러닝하실 분, 한강 기준 5km 정도",
    "도서관 열람실 자리, 아침 9시 전에 가야 있어요",
]
NICK_A = ["행복한", "졸린", "용감한", "수줍은", "배고픈", "부지런한", "느긋한", "씩씩한"]
NICK_B = ["고양이", "판다", "토끼", "여우", "곰돌이", "펭귄", "다람쥐", "호랑이"]


def kst_text(moment: datetime) -> str:
    """A KST wall-clock timestamp as the database exports write it."""
    return moment.astimezone(KST).strftime("%Y-%m-%d %H:%M:%S")


def iso_ms(moment: datetime, tz: timezone) -> str:
    text = moment.astimezone(tz).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z") if tz is UTC else text


@dataclass
class User:
    user_id: int
    nickname: str
    email: str
    phone: str
    region_id: int
    signup_at: datetime
    activity: float
    buyer_rate: float
    device_id: str
    platform: str
    app_version: str


@dataclass
class Listing:
    listing_id: int
    seller_id: int
    category_id: int
    region_id: int
    title: str
    description: str | None
    price_krw: int
    created_at: datetime
    status: str = "on_sale"
    popularity: float = 1.0


@dataclass
class World:
    rng: random.Random
    start: date
    days: int
    users: list[User] = field(default_factory=list)
    listings: list[Listing] = field(default_factory=list)
    # (table, pk or None, moment the version was written, row as dict)
    versions: list[tuple[str, object, datetime, dict[str, object]]] = field(default_factory=list)
    # (utc receive moment, event dict): what the collector delivered
    deliveries: list[tuple[datetime, dict[str, object]]] = field(default_factory=list)
    next_event: int = 1
    next_listing: int = 50001
    next_trade: int = 70001
    next_post: int = 90001
    next_label: int = 1

    def day_start(self, offset: int) -> datetime:
        day = self.start + timedelta(days=offset)
        return datetime(day.year, day.month, day.day, tzinfo=KST)

    def record(self, table: str, key: object, moment: datetime, row: dict[str, object]) -> None:
        self.versions.append((table, key, moment, dict(row)))


def make_users(world: World, count: int) -> None:
    rng = world.rng
    for index in range(count):
        user_id = 1001 + index
        # A third signed up before the window (they arrive in the initial export),
        # the rest during it, more of them early on.
        if index < count // 3:
            signup = world.day_start(-rng.randint(20, 400)) + timedelta(
                seconds=rng.randint(0, 86399)
            )
        else:
            offset = min(int(rng.expovariate(1 / 14)), world.days - 1)
            signup = world.day_start(offset) + timedelta(seconds=rng.randint(8 * 3600, 23 * 3600))
        platform = rng.choices(["ios", "android", "web"], weights=[45, 45, 10])[0]
        user = User(
            user_id=user_id,
            nickname=f"{rng.choice(NICK_A)}{rng.choice(NICK_B)}{rng.randint(1, 99)}",
            email=f"user{user_id}@example.kr",
            phone=f"010-{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}",
            region_id=rng.choice(REGIONS)[0],
            signup_at=signup,
            activity=min(0.95, rng.betavariate(1.2, 2.5)),
            buyer_rate=rng.uniform(0.01, 0.12),
            device_id=f"dev-{rng.getrandbits(40):010x}",
            platform=platform,
            app_version=rng.choice(["23.3.0", "23.4.1", "23.5.0"]),
        )
        world.users.append(user)
        world.record("users", user_id, signup, user_row(user, "active", signup))


def user_row(user: User, status: str, updated: datetime) -> dict[str, object]:
    return {
        "user_id": user.user_id,
        "nickname": user.nickname,
        "email": user.email,
        "phone": user.phone,
        "region_id": user.region_id,
        "signup_at": kst_text(user.signup_at),
        "status": status,
        "updated_at": kst_text(updated),
    }


def listing_row(listing: Listing, updated: datetime) -> dict[str, object]:
    return {
        "listing_id": listing.listing_id,
        "seller_id": listing.seller_id,
        "category_id": listing.category_id,
        "region_id": listing.region_id,
        "title": listing.title,
        "description": listing.description,
        "price_krw": listing.price_krw,
        "status": listing.status,
        "created_at": kst_text(listing.created_at),
        "updated_at": kst_text(updated),
    }


def emit(
    world: World,
    user: User | None,
    device_id: str,
    name: str,
    moment: datetime,
    properties: dict[str, object],
    platform: str,
    app_version: str,
) -> dict[str, object]:
    """Queue one event as the app sends it; delivery quirks are applied later."""
    event = {
        "event_id": f"evt-{world.next_event:08d}",
        "event_name": name,
        "user_id": user.user_id if user else None,
        "device_id": device_id,
        "occurred_at": moment,
        "platform": platform,
        "app_version": app_version,
        "properties": properties,
    }
    world.next_event += 1
    world.deliveries.append((moment, event))
    return event


def simulate(world: World) -> None:
    rng = world.rng
    experiment_start = world.day_start(7) + timedelta(hours=10)
    experiment_end = world.day_start(min(35, world.days - 1))
    assigned: dict[int, str] = {}
    incidents = incident_windows(world)
    anonymous_devices = [f"anon-{rng.getrandbits(32):08x}" for _ in range(40)]

    for offset in range(world.days):
        day = world.day_start(offset)
        active_listings = [
            item for item in world.listings if item.status in ("on_sale", "reserved")
        ]
        for user in world.users:
            if user.signup_at >= day + timedelta(days=1):
                continue
            if rng.random() > user.activity:
                continue
            for _ in range(rng.choice([1, 1, 1, 2, 2, 3])):
                start = day + timedelta(seconds=rng.randint(7 * 3600, 23 * 3600 + 1800))
                start = max(start, user.signup_at + timedelta(seconds=5))
                if start >= day + timedelta(days=1):
                    continue
                moment = start
                emit(
                    world,
                    user,
                    user.device_id,
                    "app_open",
                    moment,
                    {},
                    user.platform,
                    user.app_version,
                )
                if experiment_start <= moment < experiment_end and user.user_id not in assigned:
                    assigned[user.user_id] = assign_variant(world, user, moment)
                for _ in range(rng.randint(2, 9)):
                    moment += timedelta(
                        seconds=rng.randint(3, 240), milliseconds=rng.randint(0, 999)
                    )
                    session_event(world, user, moment, active_listings)
                if rng.random() < 0.04:
                    # A gap of exactly 1,800 s continues the session; 1,801 s does not.
                    gap = rng.choice([1800, 1801])
                    moment += timedelta(seconds=gap)
                    emit(
                        world,
                        user,
                        user.device_id,
                        "screen_view",
                        moment,
                        {"screen": "home"},
                        user.platform,
                        user.app_version,
                    )
                if rng.random() < 0.05:
                    create_listing(world, user, moment + timedelta(seconds=20))
                if rng.random() < 0.015:
                    create_post(world, user, moment + timedelta(seconds=30))
        for device in rng.sample(anonymous_devices, 6):
            moment = day + timedelta(seconds=rng.randint(8 * 3600, 22 * 3600))
            emit(world, None, device, "app_open", moment, {}, "web", "web-2026.10")
            for _ in range(rng.randint(1, 4)):
                moment += timedelta(seconds=rng.randint(5, 400))
                if active_listings:
                    listing = rng.choice(active_listings)
                    emit(
                        world,
                        None,
                        device,
                        "listing_view",
                        moment,
                        {"listing_id": listing.listing_id},
                        "web",
                        "web-2026.10",
                    )
        make_trades(world, offset, assigned, incidents)
        change_listings(world, offset)
        change_users(world, offset)
    label_content(world)


def session_event(world: World, user: User, moment: datetime, active: list[Listing]) -> None:
    rng = world.rng
    name = rng.choices(
        [
            "screen_view",
            "search",
            "listing_view",
            "post_view",
            "like",
            "chat_start",
            "chat_message",
            "comment_create",
            "share_click",
        ],
        weights=[20, 12, 35, 8, 6, 4, 8, 2, 1],
    )[0]
    props: dict[str, object] = {}
    if name in ("listing_view", "like", "chat_start", "chat_message"):
        if not active:
            name = "screen_view"
        else:
            weights = [item.popularity for item in active]
            props["listing_id"] = rng.choices(active, weights=weights)[0].listing_id
    if name == "screen_view":
        props["screen"] = rng.choice(SCREENS)
    elif name == "search":
        props["query"] = rng.choice(SEARCH_TERMS)
        props["filters"] = {"region_only": rng.random() < 0.5}
    elif name in ("post_view", "comment_create"):
        props["post_id"] = 90001 + rng.randint(0, max(0, world.next_post - 90002))
    elif name == "share_click":
        props["channel"] = "kakao"
    emit(world, user, user.device_id, name, moment, props, user.platform, user.app_version)


def create_listing(world: World, user: User, moment: datetime) -> None:
    rng = world.rng
    category = rng.choice(CATEGORIES)[0]
    title, base_price = rng.choice(ITEMS[category])
    description: str | None = rng.choice(
        [
            "상태 좋아요. 직거래 선호합니다.",
            "사용감 조금 있어요,\n네고 가능!",
            '박스 포함 "풀구성" 입니다',
            None,
        ]
    )
    popularity = rng.lognormvariate(0, 0.8)
    roll = rng.random()
    if roll < 0.03:
        description = rng.choice(SPAM_TEXTS)
        popularity = 0.2
    elif roll < 0.05:
        description = rng.choice(FRAUD_TEXTS)
    elif roll < 0.06:
        description = rng.choice(PROHIBITED_TEXTS)
    listing = Listing(
        listing_id=world.next_listing,
        seller_id=user.user_id,
        category_id=category,
        region_id=user.region_id,
        title=title,
        description=description,
        price_krw=int(round(base_price * rng.uniform(0.6, 1.3), -3)),
        created_at=moment,
        popularity=popularity,
    )
    world.next_listing += 1
    world.listings.append(listing)
    world.record("listings", listing.listing_id, moment, listing_row(listing, moment))
    emit(
        world,
        user,
        user.device_id,
        "listing_create",
        moment,
        {"listing_id": listing.listing_id, "category_id": category},
        user.platform,
        user.app_version,
    )


def create_post(world: World, user: User, moment: datetime) -> None:
    rng = world.rng
    body = rng.choice(POST_BODIES + ABUSIVE_TEXTS if rng.random() < 0.2 else POST_BODIES)
    post = {
        "post_id": world.next_post,
        "author_id": user.user_id,
        "region_id": user.region_id,
        "topic": rng.choice(POST_TOPICS),
        "body": body,
        "status": "visible",
        "created_at": kst_text(moment),
        "updated_at": kst_text(moment),
    }
    world.next_post += 1
    world.record("posts", post["post_id"], moment, post)
    emit(
        world,
        user,
        user.device_id,
        "post_create",
        moment,
        {"post_id": post["post_id"]},
        user.platform,
        user.app_version,
    )
    if body in ABUSIVE_TEXTS:
        hidden = dict(post, status="hidden", updated_at=kst_text(moment + timedelta(hours=30)))
        world.record("posts", post["post_id"], moment + timedelta(hours=30), hidden)


def assign_variant(world: World, user: User, moment: datetime) -> str:
    rng = world.rng
    variant = "treatment" if rng.random() < 0.5 else "control"
    row = {
        "experiment_id": "exp_safe_pay_banner",
        "user_id": user.user_id,
        "variant": variant,
        "assigned_at": kst_text(moment),
    }
    world.record("experiment_assignments", None, moment, row)
    if rng.random() < 0.05:
        # Re-assignment by a buggy client: the user saw both variants and is excluded.
        other = "control" if variant == "treatment" else "treatment"
        later = moment + timedelta(hours=rng.randint(1, 48))
        world.record(
            "experiment_assignments",
            None,
            later,
            dict(row, variant=other, assigned_at=kst_text(later)),
        )
    elif rng.random() < 0.05:
        # The same assignment delivered twice: still one user.
        world.record("experiment_assignments", None, moment, dict(row))
    if rng.random() < 0.6:
        search_variant = rng.choices(["control", "v_simple", "v_rich"], weights=[34, 33, 33])[0]
        world.record(
            "experiment_assignments",
            None,
            moment + timedelta(seconds=2),
            {
                "experiment_id": "exp_search_ranking",
                "user_id": user.user_id,
                "variant": search_variant,
                "assigned_at": kst_text(moment + timedelta(seconds=2)),
            },
        )
    return variant


def incident_windows(world: World) -> list[tuple[datetime, datetime]]:
    first = world.day_start(min(33, world.days - 2)) + timedelta(hours=14)
    second = world.day_start(min(30, world.days - 3)) + timedelta(hours=23)
    return [(first, first + timedelta(hours=2, minutes=30)), (second, second + timedelta(hours=2))]


def make_trades(
    world: World, offset: int, assigned: dict[int, str], incidents: list[tuple[datetime, datetime]]
) -> None:
    rng = world.rng
    day = world.day_start(offset)
    for listing in world.listings:
        if listing.status not in ("on_sale", "reserved") or listing.created_at >= day:
            continue
        if rng.random() > 0.09 * listing.popularity:
            continue
        buyer = rng.choice(world.users)
        boost = 1.6 if assigned.get(buyer.user_id) == "treatment" else 1.0
        if buyer.user_id == listing.seller_id or rng.random() > min(
            1.0, 8 * buyer.buyer_rate * boost
        ):
            continue
        moment = day + timedelta(seconds=rng.randint(9 * 3600, 23 * 3600 + 3599))
        if any(start <= moment < end for start, end in incidents):
            continue  # payments were down: the trade did not happen
        price = listing.price_krw if rng.random() < 0.8 else int(round(listing.price_krw * 0.9, -3))
        trade = {
            "trade_id": world.next_trade,
            "listing_id": listing.listing_id,
            "buyer_id": buyer.user_id,
            "seller_id": listing.seller_id,
            "price_krw": price,
            "status": "completed",
            "completed_at": kst_text(moment),
            "updated_at": kst_text(moment),
        }
        world.next_trade += 1
        if rng.random() < 0.05:
            world.record(
                "trades",
                trade["trade_id"],
                moment,
                dict(trade, status="canceled", completed_at=None),
            )
            continue
        world.record("trades", trade["trade_id"], moment, trade)
        listing.status = "sold"
        world.record("listings", listing.listing_id, moment, listing_row(listing, moment))
        if rng.random() < 0.07:
            # Cancelled after completion, on a later day: the trade no longer counts.
            later = moment + timedelta(days=rng.randint(1, 3), hours=rng.randint(0, 5))
            world.record(
                "trades",
                trade["trade_id"],
                later,
                dict(trade, status="canceled", updated_at=kst_text(later)),
            )
            listing.status = "on_sale"
            world.record("listings", listing.listing_id, later, listing_row(listing, later))


def change_listings(world: World, offset: int) -> None:
    rng = world.rng
    day = world.day_start(offset)
    for listing in world.listings:
        if listing.status != "on_sale" or listing.created_at >= day:
            continue
        roll = rng.random()
        moment = day + timedelta(seconds=rng.randint(10 * 3600, 22 * 3600))
        if roll < 0.04:
            listing.price_krw = int(round(listing.price_krw * rng.uniform(0.7, 0.95), -3))
            world.record("listings", listing.listing_id, moment, listing_row(listing, moment))
        elif roll < 0.05:
            listing.status = rng.choice(["reserved", "hidden", "deleted"])
            world.record("listings", listing.listing_id, moment, listing_row(listing, moment))


def change_users(world: World, offset: int) -> None:
    rng = world.rng
    day = world.day_start(offset)
    for user in world.users:
        if user.signup_at < day and rng.random() < 0.002:
            status = rng.choice(["dormant", "withdrawn"])
            moment = day + timedelta(seconds=rng.randint(3600, 80000))
            world.record("users", user.user_id, moment, user_row(user, status, moment))
            if status == "withdrawn":
                user.activity = 0.0


def label_content(world: World) -> None:
    rng = world.rng
    end = world.day_start(world.days) - timedelta(seconds=1)

    def label(kind: str, target: int, value: str, source: str, moment: datetime) -> None:
        row = {
            "label_id": world.next_label,
            "target_type": kind,
            "target_id": target,
            "label": value,
            "source": source,
            "labeled_at": kst_text(min(moment, end)),
        }
        world.next_label += 1
        world.record("moderation_labels", None, min(moment, end), row)

    for listing in world.listings:
        text = listing.description or ""
        truth = (
            "spam"
            if text in SPAM_TEXTS
            else "fraud"
            if text in FRAUD_TEXTS
            else "prohibited"
            if text in PROHIBITED_TEXTS
            else "ok"
        )
        moment = listing.created_at + timedelta(minutes=rng.randint(1, 600))
        if rng.random() < 0.5:
            model_guess = truth if rng.random() < 0.8 else "ok"
            label("listing", listing.listing_id, model_guess, "model", moment)
        if truth != "ok" or rng.random() < 0.25:
            first = truth if rng.random() < 0.85 else "ok"
            label("listing", listing.listing_id, first, "human", moment + timedelta(hours=1))
            if first != truth:
                # A reviewer corrected the first call later on.
                label("listing", listing.listing_id, truth, "human", moment + timedelta(hours=20))
            elif rng.random() < 0.1:
                # Two reviewers at the same second: the larger label_id wins.
                label("listing", listing.listing_id, truth, "human", moment + timedelta(hours=1))
    # A label for a listing that was never exported (a test account, purged).
    label("listing", 49999, "spam", "human", world.day_start(3) + timedelta(hours=12))
    post_rows = [row for table, _, _, row in world.versions if table == "posts"]
    seen: set[object] = set()
    for row in post_rows:
        if row["post_id"] in seen:
            continue
        seen.add(row["post_id"])
        truth = "abusive" if row["body"] in ABUSIVE_TEXTS else "ok"
        if truth != "ok" or rng.random() < 0.4:
            moment = datetime.strptime(str(row["created_at"]), "%Y-%m-%d %H:%M:%S").replace(
                tzinfo=KST
            )
            label("post", int(row["post_id"]), truth, "human", moment + timedelta(hours=2))


# --------------------------------------------------------------------------------------
# Delivery: how the collector and the export job hand the data over.
# --------------------------------------------------------------------------------------

# The columns SOURCES.md lists, from the same specs the loader validates against.
DB_COLUMNS = {name: list(spec.columns) for name, spec in DB_TABLES.items()}


def event_lines(world: World) -> dict[tuple[date, str], list[str]]:
    """Turn queued events into collector files: `{(utc date, file name): lines}`."""
    rng = world.rng
    files: dict[tuple[date, str], list[tuple[datetime, str]]] = defaultdict(list)
    last_received = world.day_start(world.days) - timedelta(seconds=1)
    for occurred, event in sorted(
        world.deliveries, key=lambda item: (item[0], item[1]["event_id"])
    ):
        received = occurred + timedelta(milliseconds=rng.randint(150, 4000))
        shown_occurred = occurred
        roll = rng.random()
        if roll < 0.012:
            # Offline phone: delivered one to four days later.
            received = occurred + timedelta(days=rng.randint(1, 4), minutes=rng.randint(0, 300))
        elif roll < 0.018:
            # The phone's clock runs ahead: occurred_at is after received_at.
            shown_occurred = occurred + timedelta(minutes=rng.choice([6, 45, 180]))
        elif roll < 0.020:
            # Exactly five minutes ahead still counts as the phone's time.
            shown_occurred = received + timedelta(minutes=5)
        if received > last_received:
            continue  # not delivered yet when the sample was cut
        tz = UTC if event["platform"] == "web" else KST
        payload = dict(
            event, occurred_at=iso_ms(shown_occurred, tz), received_at=iso_ms(received, UTC)
        )
        if rng.random() < 0.01:
            payload["client_meta"] = {"battery": rng.randint(5, 100)}  # unknown top-level field
        line = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        name = "collector-a.jsonl" if rng.random() < 0.4 else "collector-b.jsonl.gz"
        files[(received.astimezone(UTC).date(), name)].append((received, line))
        if rng.random() < 0.01:
            # At-least-once delivery: the same event again, here or in the next file.
            again = received + timedelta(seconds=rng.choice([1, 30, 4000, 90000]))
            if again <= last_received:
                copy = json.dumps(
                    dict(payload, received_at=iso_ms(again, UTC)),
                    ensure_ascii=False,
                    separators=(",", ":"),
                )
                files[(again.astimezone(UTC).date(), "collector-a.jsonl")].append((again, copy))
    bad_lines = [
        "this is not json",
        '["an", "array", "not", "an", "object"]',
        '{"event_name":"app_open","user_id":1001,"device_id":"dev-x","occurred_at":"2026-01-01T00:00:00Z"',
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
    result: dict[tuple[date, str], list[str]] = {}
    for number, key in enumerate(sorted(files)):
        lines = [line for _, line in sorted(files[key], key=lambda item: item[0])]
        if key[1] == "collector-a.jsonl" and number % 3 == 0:
            template = bad_lines[(number // 3) % len(bad_lines)]
            bad = template.replace("{day}", key[0].isoformat()).replace("{n}", str(number))
            lines.insert(rng.randint(0, len(lines)), bad)
        result[key] = lines
    return result


def db_files(world: World) -> dict[tuple[str, date], list[dict[str, object]]]:
    """One export file per table and KST day: rows as they stood at the end of that day."""
    by_file: dict[tuple[str, date], dict[object, dict[str, object]]] = defaultdict(dict)
    appended: dict[tuple[str, date], list[dict[str, object]]] = defaultdict(list)
    first_day = world.start - timedelta(days=1)
    for table, key, moment, row in world.versions:
        day = max(moment.astimezone(KST).date(), first_day)
        if key is None:
            appended[(table, day)].append(row)
        else:
            by_file[(table, day)][key] = row
    files: dict[tuple[str, date], list[dict[str, object]]] = {}
    for file_key, rows in by_file.items():
        files[file_key] = list(rows.values())
    for file_key, rows in appended.items():
        files[file_key] = rows
    return files


def write_csv(path: Path, columns: list[str], rows: list[dict[str, object]], gz: bool) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(column) is None else row.get(column) for column in columns])
    write_text(path, buffer.getvalue(), gz)


def write_text(path: Path, text: str, gz: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode("utf-8")
    if gz:
        # mtime=0 keeps the gzip bytes identical between runs.
        with open(path, "wb") as handle, gzip.GzipFile(fileobj=handle, mode="wb", mtime=0) as out:
            out.write(data)
    else:
        path.write_bytes(data)


def write_delivery(world: World, out: Path) -> dict[str, int]:
    rng = world.rng
    counts: dict[str, int] = defaultdict(int)
    for (day, name), lines in sorted(event_lines(world).items()):
        gz = name.endswith(".gz")
        write_text(out / "events" / day.isoformat() / name, "\n".join(lines) + "\n", gz)
        counts["event_lines"] += len(lines)
    bad_row_days = {world.start + timedelta(days=n) for n in (4, 11, 19, 26)}
    file_number: dict[str, int] = defaultdict(int)
    for (table, day), rows in sorted(db_files(world).items()):
        file_number[table] += 1
        columns = list(DB_COLUMNS[table])
        rows = sorted(rows, key=lambda row: tuple(str(row.get(c)) for c in columns))
        if table == "users" and day == world.start + timedelta(days=9):
            # The export job briefly added a column: extra columns are ignored and reported.
            columns = [*columns, "marketing_opt_in"]
            rows = [dict(row, marketing_opt_in=rng.choice(["Y", "N"])) for row in rows]
        if table == "posts" and file_number[table] == 12:
            columns = [column for column in columns if column != "topic"]  # rejected whole
        if table in ("listings", "trades", "users") and day in bad_row_days:
            rows = [*rows, *bad_rows(table, day)]
        gz = table == "listings" and day.day % 5 == 0
        suffix = ".csv.gz" if gz else ".csv"
        write_csv(out / "db" / table / f"{day.isoformat()}{suffix}", columns, rows, gz)
        counts[f"{table}_rows"] += len(rows)
    write_reference(world, out)
    return dict(counts)


def bad_rows(table: str, day: date) -> list[dict[str, object]]:
    stamp = f"{day.isoformat()} 12:00:00"
    if table == "listings":
        return [
            {
                "listing_id": None,
                "seller_id": 1001,
                "category_id": 1,
                "region_id": 1,
                "title": "키 없음",
                "price_krw": 1000,
                "status": "on_sale",
                "created_at": stamp,
                "updated_at": stamp,
            },
            {
                "listing_id": 59990 + day.day,
                "seller_id": 1001,
                "category_id": 1,
                "region_id": 1,
                "title": "가격 오류",
                "price_krw": "12,000원",
                "status": "on_sale",
                "created_at": stamp,
                "updated_at": stamp,
            },
        ]
    if table == "trades":
        return [
            {
                "trade_id": 79990 + day.day,
                "listing_id": 50001,
                "buyer_id": 1002,
                "seller_id": 1001,
                "price_krw": 5000,
                "status": "completed",
                "completed_at": f"{day.isoformat()} 25:61:00",
                "updated_at": stamp,
            },
        ]
    return [
        {
            "user_id": "u-unknown",
            "nickname": "잘못된행",
            "email": "bad@example.kr",
            "phone": "010-0000-0000",
            "region_id": 1,
            "signup_at": stamp,
            "status": "active",
            "updated_at": stamp,
        },
    ]


def write_reference(world: World, out: Path) -> None:
    write_csv(
        out / "reference" / "regions.csv",
        ["region_id", "city", "district", "neighborhood"],
        [
            dict(zip(["region_id", "city", "district", "neighborhood"], row, strict=True))
            for row in REGIONS
        ],
        gz=False,
    )
    write_csv(
        out / "reference" / "categories.csv",
        ["category_id", "name"],
        [{"category_id": cid, "name": name} for cid, name in CATEGORIES],
        gz=False,
    )
    experiment_start = world.day_start(7) + timedelta(hours=10)
    experiment_end = world.day_start(min(35, world.days - 1))
    write_csv(
        out / "reference" / "experiments.csv",
        [
            "experiment_id",
            "name",
            "control_variant",
            "variants",
            "started_at",
            "ended_at",
            "primary_metric",
        ],
        [
            {
                "experiment_id": "exp_safe_pay_banner",
                "name": "안전결제 배너, 상세 화면",
                "control_variant": "control",
                "variants": "control:0.5;treatment:0.5",
                "started_at": kst_text(experiment_start),
                "ended_at": kst_text(experiment_end),
                "primary_metric": "buyer_conversion",
            },
            {
                "experiment_id": "exp_search_ranking",
                "name": "검색 랭킹 v2",
                "control_variant": "control",
                "variants": "control:0.34;v_simple:0.33;v_rich:0.33",
                "started_at": kst_text(experiment_start),
                "ended_at": kst_text(experiment_end),
                "primary_metric": "buyer_conversion",
            },
        ],
        gz=False,
    )
    write_csv(
        out / "reference" / "incidents.csv",
        ["incident_id", "started_at", "ended_at", "description"],
        [
            {
                "incident_id": f"INC-{index + 1:03d}",
                "started_at": kst_text(start),
                "ended_at": kst_text(end),
                "description": text,
            }
            for index, ((start, end), text) in enumerate(
                zip(
                    incident_windows(world),
                    ["결제 API 장애 (PG사 timeout)", "채팅 서버 점검, 자정 넘김"],
                    strict=True,
                )
            )
        ],
        gz=False,
    )


def generate(
    out: Path, users: int = 220, days: int = 42, seed: int = 7, start: date = date(2026, 9, 1)
) -> dict[str, int]:
    """Write a full raw delivery under `out` (replacing what is there) and return line counts."""
    if out.exists():
        shutil.rmtree(out)
    world = World(rng=random.Random(seed), start=start, days=days)
    make_users(world, users)
    simulate(world)
    return write_delivery(world, out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=220)
    parser.add_argument("--days", type=int, default=42)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--start",
        type=date.fromisoformat,
        default=date(2026, 9, 1),
        help="first KST day of activity",
    )
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.days < 36:
        parser.error("--days must be at least 36: incidents need four weeks of history")
    counts = generate(args.out, args.users, args.days, args.seed, args.start)
    summary = ", ".join(f"{key}={value}" for key, value in sorted(counts.items()))
    print(f"wrote {args.out}: {summary}")


if __name__ == "__main__":
    main()
