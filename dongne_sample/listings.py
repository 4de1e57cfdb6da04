"""Listings: the ones created at the end of sessions (a few of them spam, fraud or
prohibited goods), the row version each change writes, and the daily price cuts and
status changes."""

from __future__ import annotations

import numpy as np

from dongne_sample.state import (
    DELETED,
    FIRST_LISTING,
    HIDDEN,
    ON_SALE,
    RESERVED,
    Listings,
    Versions,
)
from dongne_sample.world import (
    CATEGORIES,
    DESCRIPTIONS,
    FRAUD_TEXTS,
    ITEMS,
    PROHIBITED_TEXTS,
    SECOND,
    SPAM_TEXTS,
    Users,
)


def create_listings(
    rng: np.random.Generator,
    lst: Listings,
    users: Users,
    seller: np.ndarray,
    moment: np.ndarray,
    versions: Versions,
) -> np.ndarray:
    """New listings by `seller` at `moment`, appended to `lst`; returns their ids."""
    count = seller.size
    first = FIRST_LISTING + lst.listing_id.size
    ids = np.arange(first, first + count, dtype=np.int64)
    category = rng.integers(1, len(CATEGORIES) + 1, size=count)
    item = (category - 1) * 3 + rng.integers(0, 3, size=count)
    description = rng.integers(0, len(DESCRIPTIONS), size=count)
    popularity = rng.lognormal(0, 0.8, size=count)
    roll = rng.random(count)
    spam = roll < 0.03
    base = len(DESCRIPTIONS)
    description = np.where(spam, base + rng.integers(0, len(SPAM_TEXTS), size=count), description)
    popularity = np.where(spam, 0.2, popularity)
    base += len(SPAM_TEXTS)
    fraud = (roll >= 0.03) & (roll < 0.05)
    description = np.where(fraud, base + rng.integers(0, len(FRAUD_TEXTS), size=count), description)
    base += len(FRAUD_TEXTS)
    banned = (roll >= 0.05) & (roll < 0.06)
    description = np.where(
        banned, base + rng.integers(0, len(PROHIBITED_TEXTS), size=count), description
    )
    base_price = np.array([price for _, price in ITEMS])[item]
    price = (np.round(base_price * rng.uniform(0.6, 1.3, size=count), -3)).astype(np.int64)
    lst.extend(
        listing_id=ids,
        seller=seller,
        category_id=category,
        region_id=users.region_id[seller],
        item=item,
        description=description,
        price=price,
        created_ms=moment,
        status=np.zeros(count, np.int8),
        popularity=popularity,
    )
    listing_versions(lst, np.arange(count) + first - FIRST_LISTING, moment, versions)
    return ids


def listing_versions(
    lst: Listings, index: np.ndarray, moment: np.ndarray, versions: Versions
) -> None:
    """The rows of the listings at `index` as they are now, written at `moment`."""
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


def listing_changes(rng: np.random.Generator, lst: Listings, day0: int, versions: Versions) -> None:
    """Of the listings on sale, a few get cheaper and a few more are reserved, hidden or
    deleted."""
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
    listing_versions(lst, candidates[touched], moment[touched], versions)
