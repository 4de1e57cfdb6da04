"""Moderation labels: models label half the listings, humans the suspicious ones (and a
sample of the rest); reviewers correct each other; two reviewers at the same second are
resolved by the larger label id; one label is for a listing that was never exported.
Humans also label every abusive board post and a sample of the others."""

from __future__ import annotations

import numpy as np

from dongne_sample.state import LABELS, Calendar, Listings, Versions
from dongne_sample.world import DESCRIPTION_TRUTH, HOUR, MINUTE, POST_BODIES


def moderation_labels(
    rng: np.random.Generator,
    lst: Listings,
    calendar: Calendar,
    posts: list[tuple[int, int, int, int]],
) -> Versions:
    """Moderation labels of the simulation's listings and posts (id, author, body, ms):
    models label half the listings, humans the suspicious ones (and a sample of the rest);
    reviewers correct each other; two reviewers at the same second are resolved by the
    larger label id."""
    end = calendar.end_ms
    truth_of = np.array([LABELS.index(t) for t in DESCRIPTION_TRUTH])
    count = lst.listing_id.size
    truth = truth_of[lst.description] if count else np.zeros(0, np.int64)
    moment = lst.created_ms + rng.integers(1, 601, size=count) * MINUTE
    model = rng.random(count) < 0.5
    model_label = np.where(rng.random(count) < 0.8, truth, 0)
    reviewed = (truth != 0) | (rng.random(count) < 0.25)
    first = np.where(rng.random(count) < 0.85, truth, 0)
    corrected = reviewed & (first != truth)
    tie = reviewed & ~corrected & (rng.random(count) < 0.1)
    # Per listing, in order: model label, first human label, correction or tie.
    slots = np.stack([model, reviewed, corrected | tie], axis=1)
    label = np.stack([model_label, first, truth], axis=1)
    when = np.stack([moment, moment + HOUR, np.where(tie, moment + HOUR, moment + 20 * HOUR)], 1)
    source = np.tile(np.array([1, 0, 0], np.int8), (count, 1))  # 0 human, 1 model
    target = np.repeat(lst.listing_id[:, None], 3, axis=1)
    keep = slots.ravel()
    rows = {
        "target_type": np.zeros(int(keep.sum()), np.int8),
        "target_id": target.ravel()[keep],
        "label": label.ravel()[keep],
        "source": source.ravel()[keep],
        "labeled_ms": np.minimum(when.ravel()[keep], end),
    }
    # A label for a listing that was never exported (a test account, purged).
    orphan = {
        "target_type": np.zeros(1, np.int8),
        "target_id": np.array([49999]),
        "label": np.array([LABELS.index("spam")]),
        "source": np.zeros(1, np.int8),
        "labeled_ms": np.array([calendar.day(3) + 12 * HOUR]),
    }
    posts = np.array(posts, dtype=np.int64).reshape(-1, 4)
    abusive = posts[:, 2] >= len(POST_BODIES)
    labelled = abusive | (rng.random(posts.shape[0]) < 0.4)
    post_rows = {
        "target_type": np.ones(int(labelled.sum()), np.int8),
        "target_id": posts[labelled, 0],
        "label": np.where(abusive[labelled], LABELS.index("abusive"), 0),
        "source": np.zeros(int(labelled.sum()), np.int8),
        "labeled_ms": np.minimum(posts[labelled, 3] + 2 * HOUR, end),
    }
    versions = Versions()
    merged = {k: np.concatenate([rows[k], orphan[k], post_rows[k]]) for k in rows}
    merged["label_id"] = np.arange(1, merged["target_id"].size + 1)
    versions.add("moderation_labels", **merged)
    return versions
