"""Experiment assignments: the safe-pay banner test (two variants; its treatment buys more
often, see `trades`; a buggy client shows some users both, some rows arrive twice) and the
search-ranking test (three variants, about 60% of the same users)."""

from __future__ import annotations

import numpy as np

from dongne_sample.state import Versions
from dongne_sample.world import HOUR, SECOND


def assign_experiments(
    rng: np.random.Generator,
    window: tuple[int, int],
    variant: np.ndarray,
    user: np.ndarray,
    start: np.ndarray,
    versions: Versions,
) -> None:
    """A user's first app open inside the experiment window assigns them (once). `variant`
    holds each user's banner variant (0 none, 1 control, 2 treatment) and is set in place."""
    first, last = window
    inside = (start >= first) & (start < last) & (variant[user] == 0)
    if not inside.any():
        return
    candidates, moments = user[inside], start[inside]
    order = np.lexsort((moments, candidates))
    candidates, moments = candidates[order], moments[order]
    firsts = np.concatenate([[True], candidates[1:] != candidates[:-1]])
    who, when = candidates[firsts], moments[firsts]
    treatment = rng.random(who.size) < 0.5
    variant[who] = np.where(treatment, 2, 1)
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
    rows_variant.append(rng.choice(3, size=int(ranked.sum()), p=[0.34, 0.33, 0.33]).astype(np.int8))
    rows_ms.append(when[ranked] + 2 * SECOND)
    rows_experiment.append(np.ones(int(ranked.sum()), np.int8))
    versions.add(
        "experiment_assignments",
        experiment=np.concatenate(rows_experiment),
        user=np.concatenate(rows_user),
        variant=np.concatenate(rows_variant),
        assigned_ms=np.concatenate(rows_ms),
    )
