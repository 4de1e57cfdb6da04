"""App sessions: members' sessions of a day (their events, the listings and posts some of
them create, experiment assignments on the way) and logged-out web visitors'."""

from __future__ import annotations

import numpy as np

from dongne_sample.board import create_posts
from dongne_sample.experiments import assign_experiments
from dongne_sample.listings import create_listings
from dongne_sample.state import (
    ANONYMOUS,
    FIRST_POST,
    LISTING_NAMES,
    NAME,
    POST_NAMES,
    SESSION_NAME_CODES,
    SESSION_P,
    Calendar,
    EventChunk,
    Listings,
    Versions,
    concat,
    events_of,
)
from dongne_sample.world import DAY, SCREENS, SEARCH_TERMS, SECOND, SESSION_EVENTS, Users


def member_sessions(
    rng: np.random.Generator,
    users: Users,
    calendar: Calendar,
    lst: Listings,
    posts: list[tuple[int, int, int, int]],
    variant: np.ndarray,
    day0: int,
    active_ids: np.ndarray,
    weights: np.ndarray,
    versions: Versions,
) -> EventChunk:
    """The events of signed-up users' sessions on the day starting at `day0`: listings are
    viewed among `active_ids` in proportion to popularity (`weights`, cumulative). New
    listings go to `lst`, new posts to `posts`, assignments to `variant`."""
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
    post_count = len(posts)
    post_id = np.where(
        np.isin(names, POST_NAMES),
        FIRST_POST + rng.integers(0, max(1, post_count), size=owner.size),
        0,
    )

    # Listings and posts created at the end of some sessions.
    creates_listing = rng.random(sessions) < 0.05
    creates_post = rng.random(sessions) < 0.015
    new_listings = create_listings(
        rng, lst, users, user[creates_listing], last_ms[creates_listing] + 20 * SECOND, versions
    )
    new_posts = create_posts(
        rng, posts, user[creates_post], last_ms[creates_post] + 30 * SECOND, versions
    )
    assign_experiments(rng, calendar.experiment, variant, user, start, versions)

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
            category_id=lst.category_id[lst.category_id.size - new_listings.size :],
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


def anonymous_visits(
    rng: np.random.Generator, anonymous_devices: np.ndarray, day0: int, active_ids: np.ndarray
) -> EventChunk:
    """Logged-out visitors on the web: an app open and a few listing views."""
    count = min(anonymous_devices.size, max(6, anonymous_devices.size // 7))
    devices = rng.choice(anonymous_devices, size=count, replace=False)
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
