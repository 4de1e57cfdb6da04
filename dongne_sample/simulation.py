"""What people do, day by day, as NumPy arrays: sessions, listings, posts, trades.

Each simulated day yields one chunk of app events (as the app sends them, before the
collector's quirks) and the database rows it created or changed (versions, with the
moment they were written). Nothing here writes a file: `deliveries` does.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from dongne_sample.moderation import moderation_labels
from dongne_sample.state import (
    ANONYMOUS,
    DELETED,
    FIRST_LISTING,
    FIRST_POST,
    FIRST_TRADE,
    HIDDEN,
    LISTING_NAMES,
    NAME,
    ON_SALE,
    POST_NAMES,
    RESERVED,
    SESSION_NAME_CODES,
    SESSION_P,
    SOLD,
    Calendar,
    EventChunk,
    Listings,
    Versions,
    concat,
    events_of,
)
from dongne_sample.world import (
    ALL_POST_BODIES,
    CATEGORIES,
    DAY,
    DESCRIPTIONS,
    FRAUD_TEXTS,
    HOUR,
    ITEMS,
    POST_BODIES,
    POST_TOPICS,
    PROHIBITED_TEXTS,
    SCREENS,
    SEARCH_TERMS,
    SECOND,
    SESSION_EVENTS,
    SPAM_TEXTS,
    Users,
)


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

    # ---------------------------------------------------------------------------------
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
        yield (
            self._no_events(),
            moderation_labels(self.rng, self.listings, self.calendar, self.posts),
        )

    def day(self, offset: int, versions: Versions) -> EventChunk:
        day0 = self.calendar.day(offset)
        active = (self.listings.status == ON_SALE) | (self.listings.status == RESERVED)
        active_ids = self.listings.listing_id[active]
        weights = np.cumsum(self.listings.popularity[active])
        chunk = self._sessions(day0, active_ids, weights, versions)
        chunk = concat([chunk, self._anonymous(day0, active_ids)])
        self._trades(day0, versions)
        self._listing_changes(day0, versions)
        self._user_changes(day0, versions)
        return chunk

    # ---------------------------------------------------------------------------------
    def _sessions(
        self, day0: int, active_ids: np.ndarray, weights: np.ndarray, versions: Versions
    ) -> EventChunk:
        rng, users = self.rng, self.users
        n = users.user_id.size
        signed_up = users.signup_ms < day0 + DAY
        present = signed_up & (rng.random(n) <= users.activity)
        who = np.flatnonzero(present)
        per_user = rng.choice(np.array([1, 1, 1, 2, 2, 3]), size=who.size)
        user = np.repeat(who, per_user)
        start = day0 + rng.integers(7 * 3600, 23 * 3600 + 1800 + 1, size=user.size) * SECOND
        start = np.maximum(start, users.signup_ms[user] + 5 * SECOND)
        keep = start < day0 + DAY
        user, start = user[keep], start[keep]
        sessions = user.size

        # App open, 2..9 events a few seconds to minutes apart, and sometimes one more after
        # a gap of exactly 1,800 s (continues the session) or 1,801 s (starts a new one).
        browse = rng.integers(2, 10, size=sessions)
        extra = rng.random(sessions) < 0.04
        extra_gap = np.where(rng.random(sessions) < 0.5, 1800, 1801) * SECOND
        gaps = rng.integers(3, 241, size=int(browse.sum())) * SECOND + rng.integers(
            0, 1000, size=int(browse.sum())
        )
        owner = np.repeat(np.arange(sessions), browse)
        running = np.cumsum(gaps)
        before = np.concatenate([[0], running])[np.concatenate([[0], np.cumsum(browse)])[:-1]]
        browse_ms = start[owner] + running - before[owner]
        last_ms = start + (
            np.concatenate([[0], running])[np.cumsum(browse)] - before
        )  # last browse event of each session
        extra_ms = last_ms[extra] + extra_gap[extra]
        last_ms = np.where(extra, last_ms + extra_gap, last_ms)

        names = SESSION_NAME_CODES[rng.choice(len(SESSION_EVENTS), size=owner.size, p=SESSION_P)]
        listing_id = np.zeros(owner.size, np.int64)
        wants_listing = np.isin(names, LISTING_NAMES)
        if active_ids.size:
            picks = np.searchsorted(weights, rng.random(int(wants_listing.sum())) * weights[-1])
            listing_id[wants_listing] = active_ids[np.minimum(picks, active_ids.size - 1)]
        else:
            names = np.where(wants_listing, NAME["screen_view"], names)
        screen = np.where(
            names == NAME["screen_view"], rng.integers(0, len(SCREENS), size=owner.size), -1
        )
        query = np.where(
            names == NAME["search"], rng.integers(0, len(SEARCH_TERMS), size=owner.size), -1
        )
        region_only = rng.random(owner.size) < 0.5
        post_count = len(self.posts)
        post_id = np.where(
            np.isin(names, POST_NAMES),
            FIRST_POST + rng.integers(0, max(1, post_count), size=owner.size),
            0,
        )

        # Listings and posts created at the end of some sessions.
        creates_listing = rng.random(sessions) < 0.05
        creates_post = rng.random(sessions) < 0.015
        new_listings = self._create_listings(
            user[creates_listing], last_ms[creates_listing] + 20 * SECOND, versions
        )
        new_posts = self._create_posts(
            user[creates_post], last_ms[creates_post] + 30 * SECOND, versions
        )
        self._assign_experiments(user, start, versions)

        parts = [
            events_of(user, start, NAME["app_open"], users),
            events_of(
                user[owner],
                browse_ms,
                names,
                users,
                listing_id=listing_id,
                post_id=post_id,
                screen=screen,
                query=query,
                region_only=region_only,
            ),
            events_of(
                user[extra], extra_ms, NAME["screen_view"], users, screen=np.zeros(extra_ms.size)
            ),
            events_of(
                user[creates_listing],
                last_ms[creates_listing] + 20 * SECOND,
                NAME["listing_create"],
                users,
                listing_id=new_listings,
                # the listings just created are the last ones
                category_id=self.listings.category_id[
                    self.listings.category_id.size - new_listings.size :
                ],
            ),
            events_of(
                user[creates_post],
                last_ms[creates_post] + 30 * SECOND,
                NAME["post_create"],
                users,
                post_id=new_posts,
            ),
        ]
        return concat(parts)

    def _anonymous(self, day0: int, active_ids: np.ndarray) -> EventChunk:
        """Logged-out visitors on the web: an app open and a few listing views."""
        rng = self.rng
        count = min(self.anonymous_devices.size, max(6, self.anonymous_devices.size // 7))
        devices = rng.choice(self.anonymous_devices, size=count, replace=False)
        opened = day0 + rng.integers(8 * 3600, 22 * 3600 + 1, size=count) * SECOND
        views = rng.integers(1, 5, size=count) if active_ids.size else np.zeros(count, np.int64)
        owner = np.repeat(np.arange(count), views)
        gaps = rng.integers(5, 401, size=owner.size) * SECOND
        running = np.cumsum(gaps)
        before = np.concatenate([[0], running])[np.concatenate([[0], np.cumsum(views)])[:-1]]
        seen = opened[owner] + running - before[owner]
        listing = (
            active_ids[rng.integers(0, active_ids.size, size=owner.size)]
            if active_ids.size
            else np.zeros(0, np.int64)
        )
        device = np.concatenate([devices, devices[owner]])
        moments = np.concatenate([opened, seen])
        names = np.concatenate(
            [np.full(count, NAME["app_open"]), np.full(owner.size, NAME["listing_view"])]
        )
        listing_id = np.concatenate([np.zeros(count, np.int64), listing])
        size = moments.size
        return EventChunk(
            user=np.full(size, ANONYMOUS, np.int64),
            device=device,
            occurred_ms=moments,
            name=names,
            platform=np.full(size, 2),
            app_version=np.full(size, -1),
            listing_id=listing_id,
            post_id=np.zeros(size, np.int64),
            category_id=np.zeros(size, np.int64),
            screen=np.full(size, -1),
            query=np.full(size, -1),
            region_only=np.zeros(size, bool),
        )

    def _no_events(self) -> EventChunk:
        return events_of(np.zeros(0, np.int64), np.zeros(0, np.int64), 0, self.users)

    # ---------------------------------------------------------------------------------
    def _create_listings(self, seller: np.ndarray, moment: np.ndarray, versions: Versions):
        rng, count = self.rng, seller.size
        first = FIRST_LISTING + self.listings.listing_id.size
        ids = np.arange(first, first + count, dtype=np.int64)
        category = rng.integers(1, len(CATEGORIES) + 1, size=count)
        item = (category - 1) * 3 + rng.integers(0, 3, size=count)
        description = rng.integers(0, len(DESCRIPTIONS), size=count)
        popularity = rng.lognormal(0, 0.8, size=count)
        roll = rng.random(count)
        spam = roll < 0.03
        base = len(DESCRIPTIONS)
        description = np.where(
            spam, base + rng.integers(0, len(SPAM_TEXTS), size=count), description
        )
        popularity = np.where(spam, 0.2, popularity)
        base += len(SPAM_TEXTS)
        fraud = (roll >= 0.03) & (roll < 0.05)
        description = np.where(
            fraud, base + rng.integers(0, len(FRAUD_TEXTS), size=count), description
        )
        base += len(FRAUD_TEXTS)
        banned = (roll >= 0.05) & (roll < 0.06)
        description = np.where(
            banned, base + rng.integers(0, len(PROHIBITED_TEXTS), size=count), description
        )
        base_price = np.array([price for _, price in ITEMS])[item]
        price = (np.round(base_price * rng.uniform(0.6, 1.3, size=count), -3)).astype(np.int64)
        self.listings.extend(
            listing_id=ids,
            seller=seller,
            category_id=category,
            region_id=self.users.region_id[seller],
            item=item,
            description=description,
            price=price,
            created_ms=moment,
            status=np.zeros(count, np.int8),
            popularity=popularity,
        )
        self._listing_versions(np.arange(count) + first - FIRST_LISTING, moment, versions)
        return ids

    def _listing_versions(self, index: np.ndarray, moment: np.ndarray, versions: Versions) -> None:
        lst = self.listings
        versions.add(
            "listings",
            listing_id=lst.listing_id[index],
            seller=lst.seller[index],
            category_id=lst.category_id[index],
            region_id=lst.region_id[index],
            item=lst.item[index],
            description=lst.description[index],
            price=lst.price[index].copy(),
            status=lst.status[index].copy(),
            created_ms=lst.created_ms[index],
            updated_ms=moment,
        )

    def _create_posts(self, author: np.ndarray, moment: np.ndarray, versions: Versions):
        rng, count = self.rng, author.size
        first = FIRST_POST + len(self.posts)
        ids = np.arange(first, first + count, dtype=np.int64)
        wide = rng.random(count) < 0.2  # some days the board is rougher
        body = np.where(
            wide,
            rng.integers(0, len(ALL_POST_BODIES), size=count),
            rng.integers(0, len(POST_BODIES), size=count),
        )
        topic = rng.integers(0, len(POST_TOPICS), size=count)
        self.posts.extend(
            zip(ids.tolist(), author.tolist(), body.tolist(), moment.tolist(), strict=True)
        )
        abusive = body >= len(POST_BODIES)
        versions.add(
            "posts",
            post_id=ids,
            author=author,
            topic=topic,
            body=body,
            status=np.zeros(count, np.int8),
            created_ms=moment,
            updated_ms=moment,
        )
        later = moment[abusive] + 30 * HOUR  # hidden by moderators the next day
        versions.add(
            "posts",
            post_id=ids[abusive],
            author=author[abusive],
            topic=topic[abusive],
            body=body[abusive],
            status=np.ones(int(abusive.sum()), np.int8),
            created_ms=moment[abusive],
            updated_ms=later,
        )
        return ids

    def _assign_experiments(self, user: np.ndarray, start: np.ndarray, versions: Versions) -> None:
        """A user's first app open inside the experiment window assigns them (once)."""
        rng = self.rng
        first, last = self.calendar.experiment
        inside = (start >= first) & (start < last) & (self.variant[user] == 0)
        if not inside.any():
            return
        candidates, moments = user[inside], start[inside]
        order = np.lexsort((moments, candidates))
        candidates, moments = candidates[order], moments[order]
        firsts = np.concatenate([[True], candidates[1:] != candidates[:-1]])
        who, when = candidates[firsts], moments[firsts]
        treatment = rng.random(who.size) < 0.5
        self.variant[who] = np.where(treatment, 2, 1)
        rows_user, rows_variant, rows_ms, rows_experiment = (
            [who],
            [treatment.astype(np.int8)],
            [when],
            [np.zeros(who.size, np.int8)],
        )
        # A buggy client shows some users both variants (excluded from the experiment);
        # some assignments are delivered twice (still one user).
        both = rng.random(who.size) < 0.05
        twice = ~both & (rng.random(who.size) < 0.05)
        later = when[both] + rng.integers(1, 49, size=int(both.sum())) * HOUR
        rows_user += [who[both], who[twice]]
        rows_variant += [(~treatment[both]).astype(np.int8), treatment[twice].astype(np.int8)]
        rows_ms += [later, when[twice]]
        rows_experiment += [np.zeros(int(both.sum()), np.int8), np.zeros(int(twice.sum()), np.int8)]
        ranked = rng.random(who.size) < 0.6
        rows_user.append(who[ranked])
        rows_variant.append(
            rng.choice(3, size=int(ranked.sum()), p=[0.34, 0.33, 0.33]).astype(np.int8)
        )
        rows_ms.append(when[ranked] + 2 * SECOND)
        rows_experiment.append(np.ones(int(ranked.sum()), np.int8))
        versions.add(
            "experiment_assignments",
            experiment=np.concatenate(rows_experiment),
            user=np.concatenate(rows_user),
            variant=np.concatenate(rows_variant),
            assigned_ms=np.concatenate(rows_ms),
        )

    # ---------------------------------------------------------------------------------
    def _trades(self, day0: int, versions: Versions) -> None:
        rng, lst, users = self.rng, self.listings, self.users
        open_ = ((lst.status == ON_SALE) | (lst.status == RESERVED)) & (lst.created_ms < day0)
        candidates = np.flatnonzero(open_)
        candidates = candidates[rng.random(candidates.size) <= 0.09 * lst.popularity[candidates]]
        signed_up = np.flatnonzero(users.signup_ms < day0)
        if not candidates.size or not signed_up.size:
            return
        buyer = signed_up[rng.integers(0, signed_up.size, size=candidates.size)]
        boost = np.where(self.variant[buyer] == 2, 1.6, 1.0)
        buys = (buyer != lst.seller[candidates]) & (
            rng.random(candidates.size) <= np.minimum(1.0, 8 * users.buyer_rate[buyer] * boost)
        )
        # From 09:00 to midnight, busier as the evening goes on (density rising as t^0.67).
        share = rng.integers(0, 15 * 3600, size=candidates.size) / (15 * 3600)
        moment = day0 + (9 * 3600 + np.floor(share**0.6 * 15 * 3600).astype(np.int64)) * SECOND
        for first, last in self.calendar.incidents:
            buys &= ~((moment >= first) & (moment < last))  # payments were down
        listing, buyer, moment = candidates[buys], buyer[buys], moment[buys]
        count = listing.size
        discounted = rng.random(count) >= 0.8
        price = np.where(
            discounted, np.round(lst.price[listing] * 0.9, -3).astype(np.int64), lst.price[listing]
        )
        ids = np.arange(self.next_trade, self.next_trade + count, dtype=np.int64)
        self.next_trade += count
        canceled_at_once = rng.random(count) < 0.05
        canceled_later = ~canceled_at_once & (rng.random(count) < 0.07)
        later = (
            moment + rng.integers(1, 4, size=count) * DAY + rng.integers(0, 6, size=count) * HOUR
        )
        completed = ~canceled_at_once
        seller = lst.seller[listing]
        versions.add(
            "trades",
            trade_id=ids,
            listing_id=lst.listing_id[listing],
            buyer=buyer,
            seller=seller,
            price=price,
            completed=completed.astype(np.int8),
            completed_ms=np.where(completed, moment, -1),
            updated_ms=moment,
        )
        lst.status[listing[completed]] = SOLD
        self._listing_versions(listing[completed], moment[completed], versions)
        # Cancelled after completion, on a later day: the trade no longer counts.
        back = canceled_later
        versions.add(
            "trades",
            trade_id=ids[back],
            listing_id=lst.listing_id[listing[back]],
            buyer=buyer[back],
            seller=seller[back],
            price=price[back],
            completed=np.zeros(int(back.sum()), np.int8),
            completed_ms=moment[back],
            updated_ms=later[back],
        )
        lst.status[listing[back]] = ON_SALE
        self._listing_versions(listing[back], later[back], versions)

    def _listing_changes(self, day0: int, versions: Versions) -> None:
        rng, lst = self.rng, self.listings
        candidates = np.flatnonzero((lst.status == ON_SALE) & (lst.created_ms < day0))
        roll = rng.random(candidates.size)
        moment = day0 + rng.integers(10 * 3600, 22 * 3600 + 1, size=candidates.size) * SECOND
        cheaper = candidates[roll < 0.04]
        factor = rng.uniform(0.7, 0.95, size=cheaper.size)
        lst.price[cheaper] = np.round(lst.price[cheaper] * factor, -3).astype(np.int64)
        changed = candidates[(roll >= 0.04) & (roll < 0.05)]
        lst.status[changed] = rng.choice(
            np.array([RESERVED, HIDDEN, DELETED], np.int8), size=changed.size
        )
        touched = roll < 0.05
        self._listing_versions(candidates[touched], moment[touched], versions)

    def _user_changes(self, day0: int, versions: Versions) -> None:
        rng, users = self.rng, self.users
        candidates = np.flatnonzero(users.signup_ms < day0)
        changed = candidates[rng.random(candidates.size) < 0.002]
        status = rng.choice(np.array([1, 2], np.int8), size=changed.size)  # dormant, withdrawn
        moment = day0 + rng.integers(3600, 80001, size=changed.size) * SECOND
        users.activity[changed[status == 2]] = 0.0
        versions.add("users", user=changed, status=status, updated_ms=moment)

    # ---------------------------------------------------------------------------------
