"""The generator's state and what a day hands on: event chunks, row versions, listings,
and the calendar (the experiment window, the incidents, the cut)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np

from dongne_sample.world import (
    EVENT_NAMES,
    HOUR,
    LISTING_EVENTS,
    MINUTE,
    POST_EVENTS,
    SECOND,
    SESSION_EVENTS,
    SESSION_WEIGHTS,
    Users,
    day_start_ms,
)

NAME = {name: index for index, name in enumerate(EVENT_NAMES)}
LISTING_NAMES = np.array([NAME[name] for name in sorted(LISTING_EVENTS)])
POST_NAMES = np.array([NAME[name] for name in sorted(POST_EVENTS)])
SESSION_NAME_CODES = np.array([NAME[name] for name in SESSION_EVENTS])
SESSION_P = SESSION_WEIGHTS / SESSION_WEIGHTS.sum()
ON_SALE, RESERVED, SOLD, HIDDEN, DELETED = range(5)
LISTING_STATUS = ["on_sale", "reserved", "sold", "hidden", "deleted"]
FIRST_LISTING, FIRST_TRADE, FIRST_POST = 50001, 70001, 90001
ANONYMOUS = -1  # user index of a logged-out event


LABELS = ["ok", "spam", "fraud", "prohibited", "abusive"]


@dataclass
class EventChunk:
    """App events of one day, column by column (user -1: logged out)."""

    user: np.ndarray  # user index, or ANONYMOUS
    device: np.ndarray  # device bits (users: 40 bits, anonymous devices: 32)
    occurred_ms: np.ndarray
    name: np.ndarray  # index into EVENT_NAMES
    platform: np.ndarray  # index into PLATFORMS
    app_version: np.ndarray  # index into APP_VERSIONS, -1: the web app's version
    listing_id: np.ndarray  # 0: none
    post_id: np.ndarray  # 0: none
    category_id: np.ndarray  # listing_create only, else 0
    screen: np.ndarray  # index into SCREENS, -1: none
    query: np.ndarray  # index into SEARCH_TERMS, -1: none
    region_only: np.ndarray  # search filter

    def __len__(self) -> int:
        return int(self.occurred_ms.size)


@dataclass
class Versions:
    """Database rows written during a day: column name -> values, one list per table."""

    rows: dict[str, list[dict[str, np.ndarray]]] = field(default_factory=dict)

    def add(self, table: str, **columns: np.ndarray) -> None:
        if columns and next(iter(columns.values())).size:
            self.rows.setdefault(table, []).append(columns)


@dataclass
class Listings:
    """Every listing so far; arrays grow as listings are created."""

    listing_id: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    seller: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    category_id: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    region_id: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    item: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    description: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    price: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    created_ms: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    status: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))
    popularity: np.ndarray = field(default_factory=lambda: np.zeros(0, float))

    def extend(self, **columns: np.ndarray) -> None:
        for name, values in columns.items():
            setattr(self, name, np.concatenate([getattr(self, name), values]))


@dataclass
class Calendar:
    start: date
    days: int

    def day(self, offset: int) -> int:
        return day_start_ms(self.start, offset)

    @property
    def experiment(self) -> tuple[int, int]:
        return self.day(7) + 10 * HOUR, self.day(min(35, self.days - 1))

    @property
    def incidents(self) -> list[tuple[int, int]]:
        """A payment outage at the evening peak of trades and a chat outage across midnight."""
        first = self.day(min(33, self.days - 2)) + 19 * HOUR
        second = self.day(min(30, self.days - 3)) + 23 * HOUR
        return [(first, first + 2 * HOUR + 30 * MINUTE), (second, second + 2 * HOUR)]

    @property
    def end_ms(self) -> int:
        """The last moment of the window (the sample is cut there)."""
        return self.day(self.days) - SECOND


def events_of(
    user: np.ndarray, moment: np.ndarray, name: int | np.ndarray, users: Users, **extra: np.ndarray
) -> EventChunk:
    size = moment.size
    zeros = np.zeros(size, np.int64)
    names = np.full(size, name) if np.isscalar(name) else np.asarray(name)
    return EventChunk(
        user=user,
        device=users.device_id[user] if size else zeros,
        occurred_ms=moment,
        name=names,
        platform=users.platform[user] if size else zeros,
        app_version=users.app_version[user] if size else zeros,
        listing_id=extra.get("listing_id", zeros),
        post_id=extra.get("post_id", zeros),
        category_id=extra.get("category_id", zeros),
        screen=extra.get("screen", np.full(size, -1)),
        query=extra.get("query", np.full(size, -1)),
        region_only=extra.get("region_only", np.zeros(size, bool)),
    )


def concat(chunks: list[EventChunk]) -> EventChunk:
    fields = EventChunk.__dataclass_fields__
    return EventChunk(
        **{name: np.concatenate([getattr(c, name) for c in chunks]) for name in fields}
    )
