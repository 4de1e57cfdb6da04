"""The world the sample is drawn from: places, goods, texts and people (the calendar is
in state.py).

Times are int64 milliseconds since the Unix epoch (UTC) throughout the generator, so a
day of millions of events is a few NumPy arrays. Korean text, quoting and line breaks
in the texts below are there on purpose: the exports must carry them (RFC 4180).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import numpy as np

SECOND = 1000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR
KST_OFFSET = 9 * HOUR

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
# Three goods per category (index = (category - 1) * 3 + k): title and base price.
ITEMS = [
    ("아이폰 13 미니", 420000),
    ("에어팟 프로", 120000),
    ("갤럭시 탭 S7", 300000),
    ("원목 책상", 60000),
    ("패브릭 소파", 150000),
    ("IKEA 의자", 20000),
    ("유모차 (상태 좋아요)", 90000),
    ("아기 옷 묶음", 15000),
    ("카시트", 70000),
    ("미니 냉장고", 80000),
    ("전기밥솥", 40000),
    ("공기청정기", 110000),
    ("롱패딩, 거의 새것", 70000),
    ('"정품" 니트', 25000),
    ("원피스", 18000),
    ("소설책 10권", 12000),
    ("토익 문제집", 8000),
    ("만화책 전권", 45000),
    ("로드 자전거", 250000),
    ("캠핑 의자 2개", 30000),
    ("요가매트", 5000),
    ("고양이 캣타워", 35000),
    ("강아지 하네스", 9000),
    ("자동 급식기", 28000),
]
# Listing descriptions: ordinary ones (None: no description), then what moderators label.
# People type phone numbers and e-mail addresses into texts (several spellings): the
# published copies must show <phone> and <email> instead.
DESCRIPTIONS: list[str | None] = [
    "상태 좋아요. 직거래 선호합니다.",
    "사용감 조금 있어요,\n네고 가능!",
    '박스 포함 "풀구성" 입니다',
    None,
    "직거래는 010-2345-6789로 문자 주세요",
    "사진 더 필요하시면 seller.kim@example.com 으로 메일 주세요 (주문번호 2026112300017)",
]
SPAM_TEXTS = [
    "부업 모집! 하루 10분 투자로 월 300 보장, 카톡 주세요",
    "무료 나눔 이벤트 당첨! 링크 클릭하세요 http://bit.example",
    "고수익 알바, 연락은 01098765432 또는 +82 10 5555 1234",
]
FRAUD_TEXTS = ["선입금만 받아요, 직거래 불가", "계좌이체 먼저 해주시면 택배 보내드려요"]
PROHIBITED_TEXTS = ["처방 의약품 팝니다", "담배 한 보루 판매"]
# Every description a listing can have, and the label a moderator would give it.
ALL_DESCRIPTIONS: list[str | None] = [*DESCRIPTIONS, *SPAM_TEXTS, *FRAUD_TEXTS, *PROHIBITED_TEXTS]
DESCRIPTION_TRUTH = (
    ["ok"] * len(DESCRIPTIONS)
    + ["spam"] * len(SPAM_TEXTS)
    + ["fraud"] * len(FRAUD_TEXTS)
    + ["prohibited"] * len(PROHIBITED_TEXTS)
)
ABUSIVE_TEXTS = ["이 동네 사람들 진짜 왜 이래, 바보들"]
POST_TOPICS = ["동네질문", "분실/실종", "맛집", "동네소식", "취미"]
POST_BODIES = [
    '혹시 망원시장 근처에 "24시간" 약국 있나요?\n급해요!',
    "고양이 잃어버렸어요. 회색 줄무늬, 이름은 '나비'입니다.",
    "성수동 새로 생긴 빵집, 소금빵 맛있어요 :)",
    "주말에 같이 러닝하실 분, 한강 기준 5km 정도",
    "도서관 열람실 자리, 아침 9시 전에 가야 있어요",
    "강아지 찾아주시면 사례할게요. 010 4444 5555 / 02-123-4567",
    "러닝 모임 문의는 run.club@dongne.example 로 주세요",
]
ALL_POST_BODIES = [*POST_BODIES, *ABUSIVE_TEXTS]
NICK_A = ["행복한", "졸린", "용감한", "수줍은", "배고픈", "부지런한", "느긋한", "씩씩한"]
NICK_B = ["고양이", "판다", "토끼", "여우", "곰돌이", "펭귄", "다람쥐", "호랑이"]
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
PLATFORMS = ["ios", "android", "web"]
APP_VERSIONS = ["23.3.0", "23.4.1", "23.5.0"]
WEB_VERSION = "web-2026.10"
# What people do inside a session ("share_click" is a name newer app versions send).
SESSION_EVENTS = [
    "screen_view",
    "search",
    "listing_view",
    "post_view",
    "like",
    "chat_start",
    "chat_message",
    "comment_create",
    "share_click",
]
SESSION_WEIGHTS = np.array([20, 12, 35, 8, 6, 4, 8, 2, 1], dtype=float)
EVENT_NAMES = ["app_open", *SESSION_EVENTS, "listing_create", "post_create"]
LISTING_EVENTS = {"listing_view", "like", "chat_start", "chat_message"}
POST_EVENTS = {"post_view", "comment_create"}

# Events per user per day, on average: sizes the population for a target event count.
EVENTS_PER_USER_DAY = 3.1
MIN_DAYS = 36  # incidents need four weeks of history before them


def day_start_ms(start: date, offset: int) -> int:
    """Midnight KST of day `offset` after `start`, in epoch milliseconds."""
    midnight_utc = datetime(start.year, start.month, start.day, tzinfo=UTC).timestamp()
    return int(midnight_utc * 1000) + offset * DAY - KST_OFFSET


def users_for_events(events: int, days: int) -> int:
    """How many users make about `events` event lines over `days` days."""
    return max(30, round(events / (EVENTS_PER_USER_DAY * days)))


@dataclass
class Users:
    """The people: one entry per user, index i is user_id 1001 + i."""

    user_id: np.ndarray
    signup_ms: np.ndarray
    activity: np.ndarray
    buyer_rate: np.ndarray
    region_id: np.ndarray
    platform: np.ndarray  # index into PLATFORMS
    app_version: np.ndarray  # index into APP_VERSIONS
    device_id: np.ndarray  # 40 random bits, written as dev-%010x
    nickname: list[str]
    phone: list[str]


def make_users(rng: np.random.Generator, count: int, start: date, days: int) -> Users:
    """A third signed up before the window (they arrive in the first export), the rest
    during it, more of them early on."""
    before = count // 3
    signup = np.empty(count, dtype=np.int64)
    back = rng.integers(20, 401, size=before)
    signup[:before] = (
        day_start_ms(start, 0) - back * DAY + rng.integers(0, 86400, size=before) * SECOND
    )
    later = count - before
    offsets = np.minimum(rng.exponential(14, size=later).astype(np.int64), days - 1)
    signup[before:] = (
        day_start_ms(start, 0)
        + offsets * DAY
        + rng.integers(8 * 3600, 23 * 3600 + 1, size=later) * SECOND
    )
    nick_a = rng.integers(0, len(NICK_A), size=count)
    nick_b = rng.integers(0, len(NICK_B), size=count)
    nick_n = rng.integers(1, 100, size=count)
    phone_a = rng.integers(1000, 10000, size=count)
    phone_b = rng.integers(1000, 10000, size=count)
    return Users(
        user_id=np.arange(1001, 1001 + count, dtype=np.int64),
        signup_ms=signup,
        activity=np.minimum(0.95, rng.beta(1.2, 2.5, size=count)),
        buyer_rate=rng.uniform(0.01, 0.12, size=count),
        region_id=rng.integers(1, len(REGIONS) + 1, size=count),
        platform=rng.choice(3, size=count, p=[0.45, 0.45, 0.10]),
        app_version=rng.integers(0, len(APP_VERSIONS), size=count),
        device_id=rng.integers(0, 2**40, size=count, dtype=np.int64),
        nickname=[
            f"{NICK_A[a]}{NICK_B[b]}{n}" for a, b, n in zip(nick_a, nick_b, nick_n, strict=True)
        ],
        phone=[f"010-{a}-{b}" for a, b in zip(phone_a, phone_b, strict=True)],
    )
