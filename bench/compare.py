"""The baseline's four marts against the platform's published ones, from the same raw
files in the same bench run: a baseline that dropped lines would look faster, and the
ratio would mislead, so the report says whether they are equal, and where they differ.

Each mart is compared as a multiset of rows over the columns both have (the platform's
person keys and session ids are pseudonyms the baseline does not make; sessions are
compared by their start, end, day, length and event count)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

# mart -> the columns the baseline computes, as the published mart names them.
COMPARED = {
    "fct_daily_active_users": ["activity_date", "dau", "wau", "mau"],
    "fct_growth_accounting": [
        "activity_date",
        "new_users",
        "retained_users",
        "resurrected_users",
        "churned_users",
    ],
    "fct_sessions": [
        "session_start_at",
        "session_end_at",
        "session_date",
        "round(duration_seconds, 3) as duration_seconds",
        "event_count",
    ],
    "fct_daily_marketplace": ["kpi_date", "listings_created", "completed_trades", "gmv_krw"],
}
SHOWN = 3  # differing rows named in the report, each way


@dataclass
class MartComparison:
    mart: str
    published_rows: int
    baseline_rows: int
    only_published: int = 0
    only_baseline: int = 0
    examples: list[str] = field(default_factory=list)

    @property
    def equal(self) -> bool:
        return self.only_published == 0 and self.only_baseline == 0

    def sentence(self) -> str:
        if self.equal:
            return f"{self.mart}: equal ({self.published_rows:,} rows)"
        return (
            f"{self.mart}: differs: {self.only_published:,} of {self.published_rows:,} "
            f"published rows not in the baseline, {self.only_baseline:,} of "
            f"{self.baseline_rows:,} baseline rows not published; e.g. " + "; ".join(self.examples)
        )


def baseline_file(work: Path, mart: str) -> Path:
    """Where the baseline script leaves a mart (Parquet), for this comparison."""
    return work / f"baseline-{mart}.parquet"


def compare(published: Path, work: Path) -> list[MartComparison]:
    """Each mart of COMPARED: the published one (analytics.duckdb) against the baseline's."""
    found = []
    with duckdb.connect(str(published), read_only=True) as con:
        for mart, columns in COMPARED.items():
            select = ", ".join(columns)
            ours = f"select {select} from marts.{mart}"
            theirs = f"select {select} from read_parquet('{baseline_file(work, mart)}')"
            (mine,) = con.execute(f"select count(*) from ({ours})").fetchone()
            (base,) = con.execute(f"select count(*) from ({theirs})").fetchone()
            result = MartComparison(mart, mine, base)
            for side, first, second in (("published", ours, theirs), ("baseline", theirs, ours)):
                rows = con.execute(f"{first} except all {second} order by all").fetchall()
                setattr(result, f"only_{side}", len(rows))
                result.examples += [f"only {side}: {row}" for row in rows[:SHOWN]]
            found.append(result)
    return found
