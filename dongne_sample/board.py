"""The neighbourhood board: posts written at the end of sessions, a few of them abusive
(hidden by moderators the next day)."""

from __future__ import annotations

import numpy as np

from dongne_sample.state import FIRST_POST, Versions
from dongne_sample.world import ALL_POST_BODIES, HOUR, POST_BODIES, POST_TOPICS


def create_posts(
    rng: np.random.Generator,
    posts: list[tuple[int, int, int, int]],
    author: np.ndarray,
    moment: np.ndarray,
    versions: Versions,
) -> np.ndarray:
    """New posts by `author` at `moment`, appended to `posts` (id, author, body, ms);
    returns their ids."""
    count = author.size
    first = FIRST_POST + len(posts)
    ids = np.arange(first, first + count, dtype=np.int64)
    wide = rng.random(count) < 0.2  # some days the board is rougher
    body = np.where(
        wide,
        rng.integers(0, len(ALL_POST_BODIES), size=count),
        rng.integers(0, len(POST_BODIES), size=count),
    )
    topic = rng.integers(0, len(POST_TOPICS), size=count)
    posts.extend(zip(ids.tolist(), author.tolist(), body.tolist(), moment.tolist(), strict=True))
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
