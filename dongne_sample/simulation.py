"""What people do, day by day, as NumPy arrays: the state the days share (users,
listings, posts, experiment variants, the next trade id) and the order in which each day's
domains run: `sessions` (which create listings and posts and assign experiments on the
way: `listings`, `board`, `experiments`), `trades`, `listings`' price and status changes,
then users' status changes (kept here); moderation labels come last.

Each simulated day yields one chunk of app events (as the app sends them, before the
collector's quirks) and the database rows it created or changed (versions, with the
moment they were written). Nothing here writes a file: `deliveries` does.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from dongne_sample.listings import listing_changes
from dongne_sample.moderation import moderation_labels
from dongne_sample.sessions import anonymous_visits, member_sessions
from dongne_sample.state import (
    FIRST_TRADE,
    ON_SALE,
    RESERVED,
    Calendar,
    EventChunk,
    Listings,
    Versions,
    concat,
    events_of,
)
from dongne_sample.trades import make_trades
from dongne_sample.world import SECOND, Users


@dataclass
class Simulation:
    rng: np.random.Generator
    users: Users
    calendar: Calendar
    anonymous_devices: np.ndarray
    listings: Listings = field(default_factory=Listings)
    posts: list[tuple[int, int, int, int]] = field(default_factory=list)  # id, author, body, ms
    variant: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))  # 0 none, 1, 2
    next_trade: int = FIRST_TRADE

    def __post_init__(self) -> None:
        self.variant = np.zeros(self.users.user_id.size, np.int8)

    def days(self) -> Iterator[tuple[EventChunk, Versions]]:
        """The world, one day at a time."""
        first = Versions()
        first.add(
            "users",
            user=np.arange(self.users.user_id.size),
            status=np.zeros(self.users.user_id.size, np.int8),
            updated_ms=self.users.signup_ms.copy(),
        )
        for offset in range(self.calendar.days):
            versions = first if offset == 0 else Versions()
            yield self.day(offset, versions), versions
        no_events = events_of(np.zeros(0, np.int64), np.zeros(0, np.int64), 0, self.users)
        yield no_events, moderation_labels(self.rng, self.listings, self.calendar, self.posts)

    def day(self, offset: int, versions: Versions) -> EventChunk:
        """One day's events; its rows go to `versions`."""
        rng, lst = self.rng, self.listings
        day0 = self.calendar.day(offset)
        active = (lst.status == ON_SALE) | (lst.status == RESERVED)
        active_ids = lst.listing_id[active]
        weights = np.cumsum(lst.popularity[active])
        chunk = member_sessions(
            rng,
            self.users,
            self.calendar,
            lst,
            self.posts,
            self.variant,
            day0,
            active_ids,
            weights,
            versions,
        )
        chunk = concat([chunk, anonymous_visits(rng, self.anonymous_devices, day0, active_ids)])
        self.next_trade = make_trades(
            rng,
            lst,
            self.users,
            self.variant,
            self.calendar.incidents,
            day0,
            self.next_trade,
            versions,
        )
        listing_changes(rng, lst, day0, versions)
        user_changes(rng, self.users, day0, versions)
        return chunk


def user_changes(rng: np.random.Generator, users: Users, day0: int, versions: Versions) -> None:
    """A few signed-up users go dormant or withdraw (withdrawn users stop coming)."""
    candidates = np.flatnonzero(users.signup_ms < day0)
    changed = candidates[rng.random(candidates.size) < 0.002]
    status = rng.choice(np.array([1, 2], np.int8), size=changed.size)  # dormant, withdrawn
    moment = day0 + rng.integers(3600, 80001, size=changed.size) * SECOND
    users.activity[changed[status == 2]] = 0.0
    versions.add("users", user=changed, status=status, updated_ms=moment)
