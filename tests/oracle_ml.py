"""The `ml` tables of the independent implementation (tests/oracle.py reads the raw files
the same plain way): the moderation training set, with typed phone numbers and e-mails
scrubbed, and the listing popularity features, each as of its point in time."""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta
from pathlib import Path

from tests.oracle import (
    LISTING_INTS,
    USER_INTS,
    all_rows,
    completed_trades,
    current_rows,
    valid_events,
)

EMAIL = re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)+", re.ASCII)
# A Korean phone number (mobile or landline, +82 or 0, groups joined by -, . or a space),
# not part of a longer run of digits.
PHONE = re.compile(
    r"(?<!\d)(?:\+82[ .-]?0?|0)(?:1[016789]|2|[3-6][1-5])[ .-]?\d{3,4}[ .-]?\d{4}(?!\d)", re.ASCII
)


def scrub(text: str | None) -> str | None:
    """Typed phone numbers and e-mail addresses replaced by <phone> and <email>."""
    if text is None:
        return None
    return PHONE.sub("<phone>", EMAIL.sub("<email>", text))


def moderation_labels(raw: Path) -> dict[tuple[str, int], tuple[str, str]]:
    """(target_type, target_id) -> (text, latest human label), for existing targets."""
    labels = [
        row
        for _, row in all_rows(
            raw, "moderation_labels", "label_id", ("label_id", "target_id"), ("labeled_at",)
        )
    ]
    listings = current_rows(
        raw, "listings", "listing_id", LISTING_INTS, ("created_at", "updated_at")
    )
    posts = current_rows(
        raw, "posts", "post_id", ("post_id", "author_id", "region_id"), ("created_at", "updated_at")
    )
    texts = {
        ("listing", k): scrub(f"{v['title'] or ''}\n{v['description'] or ''}")
        for k, v in listings.items()
    }
    texts |= {("post", k): scrub(v["body"]) for k, v in posts.items()}
    latest: dict[tuple[str, int], dict] = {}
    for label in labels:
        if label["source"] != "human":
            continue
        key = (label["target_type"], label["target_id"])
        order = (label["labeled_at"], label["label_id"])
        if key not in latest or order > (latest[key]["labeled_at"], latest[key]["label_id"]):
            latest[key] = label
    return {key: (texts[key], label["label"]) for key, label in latest.items() if key in texts}


def listing_features(raw: Path) -> list[tuple]:
    """Every listing's features except seller_key (checked separately)."""
    versions = all_rows(raw, "listings", "listing_id", LISTING_INTS, ("created_at", "updated_at"))
    listings = current_rows(
        raw, "listings", "listing_id", LISTING_INTS, ("created_at", "updated_at")
    )
    first_price: dict[int, tuple] = {}
    for (file_date, line), row in versions:
        order = (row["updated_at"] or datetime.max, file_date, line)
        if row["listing_id"] not in first_price or order < first_price[row["listing_id"]][0]:
            first_price[row["listing_id"]] = (order, row["price_krw"])
    users = current_rows(raw, "users", "user_id", USER_INTS, ("signup_at", "updated_at"))
    trades = completed_trades(raw)
    events = valid_events(raw)
    rows = []
    for lid, item in listings.items():
        created = item["created_at"]
        seller = item["seller_id"]
        prior = sum(
            1 for o in listings.values() if o["seller_id"] == seller and o["created_at"] < created
        )
        prior_trades = sum(
            1 for t in trades if t["seller_id"] == seller and t["completed_at"] < created
        )
        signup = users.get(seller, {}).get("signup_at")
        age = math.floor((created - signup).total_seconds() / 86400) if signup else None
        window = [
            e
            for e in events
            if e["listing_id"] == lid and created <= e["event_at"] < created + timedelta(hours=72)
        ]
        views = sum(e["event_name"] == "listing_view" for e in window)
        chats = sum(e["event_name"] == "chat_start" for e in window)
        rows.append(
            (
                lid,
                created,
                item["category_id"],
                item["region_id"],
                first_price[lid][1],
                prior,
                prior_trades,
                age,
                views,
                chats,
            )
        )
    return sorted(rows)
