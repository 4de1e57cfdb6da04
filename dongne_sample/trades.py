"""Trades: buyers take listings on sale or reserved, busier in the evening and none while
payments are down; a few trades are cancelled at once, a few more on a later day (the
listing goes back on sale)."""

from __future__ import annotations

import numpy as np

from dongne_sample.listings import listing_versions
from dongne_sample.state import ON_SALE, RESERVED, SOLD, Listings, Versions
from dongne_sample.world import DAY, HOUR, SECOND, Users


def make_trades(
    rng: np.random.Generator,
    lst: Listings,
    users: Users,
    variant: np.ndarray,
    incidents: list[tuple[int, int]],
    day0: int,
    next_trade: int,
    versions: Versions,
) -> int:
    """The trades of the day starting at `day0`, numbered from `next_trade`; returns the
    next free trade id. Listings sold (or back on sale) change in `lst`."""
    open_ = ((lst.status == ON_SALE) | (lst.status == RESERVED)) & (lst.created_ms < day0)
    candidates = np.flatnonzero(open_)
    candidates = candidates[rng.random(candidates.size) <= 0.09 * lst.popularity[candidates]]
    signed_up = np.flatnonzero(users.signup_ms < day0)
    if not candidates.size or not signed_up.size:
        return next_trade
    buyer = signed_up[rng.integers(0, signed_up.size, size=candidates.size)]
    boost = np.where(variant[buyer] == 2, 1.6, 1.0)
    buys = (buyer != lst.seller[candidates]) & (
        rng.random(candidates.size) <= np.minimum(1.0, 8 * users.buyer_rate[buyer] * boost)
    )
    # From 09:00 to midnight, busier as the evening goes on (density rising as t^0.67).
    share = rng.integers(0, 15 * 3600, size=candidates.size) / (15 * 3600)
    moment = day0 + (9 * 3600 + np.floor(share**0.6 * 15 * 3600).astype(np.int64)) * SECOND
    for first, last in incidents:
        buys &= ~((moment >= first) & (moment < last))  # payments were down
    listing, buyer, moment = candidates[buys], buyer[buys], moment[buys]
    count = listing.size
    discounted = rng.random(count) >= 0.8
    price = np.where(
        discounted, np.round(lst.price[listing] * 0.9, -3).astype(np.int64), lst.price[listing]
    )
    ids = np.arange(next_trade, next_trade + count, dtype=np.int64)
    canceled_at_once = rng.random(count) < 0.05
    canceled_later = ~canceled_at_once & (rng.random(count) < 0.07)
    later = moment + rng.integers(1, 4, size=count) * DAY + rng.integers(0, 6, size=count) * HOUR
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
    listing_versions(lst, listing[completed], moment[completed], versions)
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
    listing_versions(lst, listing[back], later[back], versions)
    return next_trade + count
