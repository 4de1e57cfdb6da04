"""The independent implementation of what a manager reads beside the contract's tables
(docs/marts.md: "Complete days", "Metric anomalies", the experiment decisions), in plain
Python over the raw files, built on tests/oracle.py's reading of them."""

from __future__ import annotations

import math
import statistics
from datetime import date, datetime, time, timedelta
from pathlib import Path

from tests import oracle

# docs/marts.md, "Complete days": events received up to this long past a day's end, and
# an export of these tables dated that day or later.
COMPLETE_AFTER = timedelta(hours=2)
EXPORT_TABLES = (
    ("users", "user_id", oracle.USER_INTS, ("signup_at", "updated_at")),
    ("listings", "listing_id", oracle.LISTING_INTS, ("created_at", "updated_at")),
    ("trades", "trade_id", oracle.TRADE_INTS, ("completed_at", "updated_at")),
)


def deliveries_through(raw: Path) -> tuple[datetime, date | None]:
    """How far the deliveries reach: the latest receipt of a valid event (KST) and the
    newest day a users, listings or trades export covers."""
    received_through = max(e["received_at"] for e in oracle.valid_events(raw))
    exported = [
        date.fromisoformat(position[0])
        for table, key, ints, stamps in EXPORT_TABLES
        for position, _ in oracle.all_rows(raw, table, key, ints, stamps)
    ]
    return received_through, max(exported) if exported else None


def day_completeness(raw: Path) -> dict[date, bool]:
    """Each calendar date: complete once events were received up to its end plus the
    allowed lateness and a users, listings or trades export dated that day or later came."""
    events = oracle.valid_events(raw)
    first, last = min(e["event_date"] for e in events), max(e["event_date"] for e in events)
    received_through, exported_through = deliveries_through(raw)
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    return {
        d: exported_through is not None
        and d <= exported_through
        and received_through >= datetime.combine(d + timedelta(days=1), time()) + COMPLETE_AFTER
        for d in days
    }


ANOMALY_MIN_VOLUME = 20


def metric_anomalies(raw: Path, salt: str) -> list[tuple]:
    """docs/marts.md, "Metric anomalies": (metric, day, figure, expected, low, high,
    is_anomaly, direction, incident) for each judged complete day, sorted."""
    built = oracle.marts(raw, salt)
    complete = day_completeness(raw)
    series = {
        "dau": {row[0]: row[1] for row in built["fct_daily_active_users"]},
        "new_users": {row[0]: row[1] for row in built["fct_growth_accounting"]},
        "new_listings": {row[0]: row[1] for row in built["fct_daily_marketplace"]},
        "completed_trades": {row[0]: row[2] for row in built["fct_daily_marketplace"]},
        "gmv_krw": {row[0]: row[3] for row in built["fct_daily_marketplace"]},
    }
    open_incidents = [
        spec
        for _, spec in oracle.all_rows(
            raw, "incidents", "incident_id", (), ("started_at", "ended_at"), "reference"
        )
        if spec["started_at"]
    ]

    def history(metric: str, day: date) -> list[float] | None:
        earlier = [series[metric].get(day - timedelta(weeks=k)) for k in range(1, 5)]
        return None if None in earlier else [float(v) for v in earlier]  # type: ignore[arg-type]

    rows = []
    for metric, figures in series.items():
        for day, figure in figures.items():
            past = history(metric, day)
            if not complete[day] or past is None:
                continue
            expected = statistics.median(past)
            trades = history("completed_trades", day)
            volume = expected if metric != "gmv_krw" else statistics.median(trades or [0])
            if volume < ANOMALY_MIN_VOLUME:
                continue
            mad = statistics.median(abs(v - expected) for v in past)
            spread = max(1.4826 * mad, math.sqrt(expected), 0.15 * expected)
            low, high = max(0.0, expected - 3 * spread), expected + 3 * spread
            direction = "drop" if figure < low else "spike" if figure > high else None
            start = datetime.combine(day, time())
            causes = sorted(
                spec["incident_id"]
                for spec in open_incidents
                if spec["started_at"] < start + timedelta(days=1)
                and (spec["ended_at"] is None or spec["ended_at"] > start)
            )
            rows.append(
                (
                    metric,
                    day,
                    float(figure),
                    expected,
                    low,
                    high,
                    direction is not None,
                    direction,
                    causes[0] if causes else None,
                )
            )
    return sorted(rows)


Z95, Z80 = 1.959963984540054, 0.8416212335729143
SMALLEST_LIFT_WORTH_SHIPPING = 0.1


def _holm(p_values: dict[str, float]) -> dict[str, float]:
    """Holm's step-down: the k-th smallest of m p-values times m - k + 1, monotone, <= 1."""
    ordered = sorted(p_values.items(), key=lambda item: (item[1], item[0]))
    adjusted, running = {}, 0.0
    for rank, (name, p) in enumerate(ordered, start=1):
        running = max(running, (len(ordered) - rank + 1) * p)
        adjusted[name] = min(1.0, running)
    return adjusted


def experiment_decisions(raw: Path) -> list[tuple]:
    """docs/marts.md, "Experiment decisions", per non-control variant: (experiment, variant,
    lift low, lift high, Holm p, minimum detectable lift, has ended, trades per user,
    guardrail difference, its low, its high, decision), sorted."""
    results = {(r[0], r[1]): r for r in oracle.experiments(raw)}
    received_through, exported_through = deliveries_through(raw)
    rows = []
    for spec, bought, srm in oracle._experiment_stats(raw):
        experiment, control = spec["experiment_id"], spec["control_variant"]
        tested = {
            v: results[(experiment, v)][6]
            for v in bought
            if v != control and results[(experiment, v)][6] is not None
        }
        holm = _holm(tested)
        n_c, x_c = len(bought[control]), sum(k > 0 for k in bought[control])
        p_c = x_c / n_c if n_c else None
        end = spec["ended_at"]
        has_ended = (
            end is not None
            and exported_through is not None
            and received_through >= end + COMPLETE_AFTER
            and exported_through >= (end - timedelta(seconds=1)).date()
        )

        def mean_and_variance(users: list[int]) -> tuple[float | None, float | None]:
            if not users:
                return None, None
            mean = sum(users) / len(users)
            if len(users) < 2:
                return mean, None
            return mean, sum((k - mean) ** 2 for k in users) / (len(users) - 1)

        m_c, v_c = mean_and_variance(bought[control])
        for variant, users in bought.items():
            if variant == control:
                continue
            n, x = len(users), sum(k > 0 for k in users)
            lift_low = lift_high = mde = None
            if x and x_c:
                half = Z95 * math.sqrt(1 / x - 1 / n + 1 / x_c - 1 / n_c)
                ratio = math.log((x / n) / (x_c / n_c))
                lift_low, lift_high = math.exp(ratio - half) - 1, math.exp(ratio + half) - 1
            if p_c and n:
                mde = (Z95 + Z80) * math.sqrt(p_c * (1 - p_c) * (1 / n + 1 / n_c)) / p_c
            m, v = mean_and_variance(users)
            difference = low = high = None
            if m is not None and m_c is not None:
                difference = m - m_c
                if v is not None and v_c is not None:
                    half = Z95 * math.sqrt(v / n + v_c / n_c)
                    low, high = difference - half, difference + half
            adjusted = holm.get(variant)
            if srm is not None and srm < 0.001:
                decision = "do not trust: the split is off"
            elif not has_ended:
                decision = "keep running: not at its end date yet"
            elif adjusted is not None and adjusted < 0.05:
                harmed = high is not None and high < 0
                more = p_c is not None and n > 0 and x / n > p_c
                decision = "ship" if more and not harmed else "do not ship"
            elif mde is None or mde > SMALLEST_LIFT_WORTH_SHIPPING:
                decision = "keep running: too small to tell"
            else:
                decision = "do not ship"
            rows.append(
                (
                    experiment,
                    variant,
                    lift_low,
                    lift_high,
                    adjusted,
                    mde,
                    has_ended,
                    m,
                    difference,
                    low,
                    high,
                    decision,
                )
            )
    return sorted(rows)
