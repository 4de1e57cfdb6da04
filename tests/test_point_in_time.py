"""Listing features use only what was known at created_at.

The platform is rebuilt on the raw data cut at T (midnight KST of a day in the middle of
the sample: event lines received before T, export files of days before T). Every listing
created before T must get the same features as in the full build: a feature that
changes means it read data from after T, hence from after the listing's created_at.

The one difference docs/marts.md itself allows: `seller_prior_completed_trades` counts trades
whose *current* state is completed, so a trade completed before created_at and cancelled
after T counts in the cut build and not in the full one. Those trades are found in the
raw data here and the count is corrected for them, and only for them.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import shutil
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from dagster import ExecuteInProcessResult

from tests.conftest import TEST_SALT, build_platform, query
from tests.oracle import person_key

KST = timezone(timedelta(hours=9))
FEATURES = (
    "listing_id, created_at, category_id, region_id, seller_key, price_krw, "
    "seller_prior_listings, seller_prior_completed_trades, seller_account_age_days"
)


def read_text(path: Path) -> str:
    data = path.read_bytes()
    return (gzip.decompress(data) if path.name.endswith(".gz") else data).decode("utf-8")


def cut_delivery(raw: Path, out: Path, cut: datetime) -> None:
    """Copy what had been delivered before `cut` (a KST midnight) into `out`."""
    shutil.copytree(raw / "reference", out / "reference")
    for path in sorted(raw.glob("db/*/*.csv*")):
        if path.name.split(".")[0] < cut.date().isoformat():
            target = out / path.relative_to(raw)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
    cut_utc = cut.astimezone(UTC)
    for path in sorted(raw.glob("events/*/*.jsonl*")):
        kept = []
        for line in read_text(path).splitlines():
            try:
                received = datetime.fromisoformat(
                    json.loads(line)["received_at"].replace("Z", "+00:00")
                )
            except (ValueError, KeyError, TypeError, AttributeError):
                continue  # bad lines: not features' business
            if received < cut_utc:
                kept.append(line)
        if kept:
            target = out / path.relative_to(raw).with_suffix("").with_suffix(".jsonl")
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("a", encoding="utf-8") as handle:
                handle.write("\n".join(kept) + "\n")


def cancelled_after(raw: Path, cut: datetime) -> dict[int, list[datetime]]:
    """Seller -> completion times of trades completed before `cut` but cancelled after it."""
    completed_before: dict[int, tuple[int, datetime]] = {}
    cancelled_later: set[int] = set()
    for path in sorted(raw.glob("db/trades/*.csv*")):
        for row in csv.DictReader(io.StringIO(read_text(path), newline="")):
            try:
                trade, seller = int(row["trade_id"]), int(row["seller_id"])
                updated = datetime.strptime(row["updated_at"], "%Y-%m-%d %H:%M:%S")
                completed = (
                    datetime.strptime(row["completed_at"], "%Y-%m-%d %H:%M:%S")
                    if row["completed_at"]
                    else None
                )
            except (ValueError, TypeError):
                continue  # a quarantined row: the platform never saw it
            if row["status"] == "completed" and completed and updated < cut.replace(tzinfo=None):
                completed_before[trade] = (seller, completed)
            elif row["status"] == "canceled" and updated >= cut.replace(tzinfo=None):
                cancelled_later.add(trade)
    found: dict[int, list[datetime]] = {}
    for trade in cancelled_later & completed_before.keys():
        seller, completed = completed_before[trade]
        found.setdefault(seller, []).append(completed)
    return found


@pytest.fixture(scope="module")
def cut_build(
    sample_raw_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, datetime]:
    days = sorted(p.name for p in (sample_raw_dir / "events").iterdir())
    cut = datetime.fromisoformat(days[len(days) // 2]).replace(tzinfo=KST)
    raw = tmp_path_factory.mktemp("cut") / "raw"
    cut_delivery(sample_raw_dir, raw, cut)
    data = tmp_path_factory.mktemp("cut_data")
    assert build_platform(raw, data).success
    return data / "analytics.duckdb", cut


def test_features_of_listings_created_before_the_cut_do_not_change_with_later_data(
    sample_raw_dir: Path,
    sample_build: tuple[Path, ExecuteInProcessResult],
    cut_build: tuple[Path, datetime],
) -> None:
    cut_db, cut = cut_build
    full_db = sample_build[0] / "analytics.duckdb"
    sql = f"select {FEATURES} from ml.listing_popularity_features where created_at < ? order by 1"
    naive_cut = cut.replace(tzinfo=None)
    full = query(full_db, sql.replace("?", f"'{naive_cut}'"))
    early = query(cut_db, sql.replace("?", f"'{naive_cut}'"))
    assert len(full) >= 10, "the cut must leave listings to compare"
    # Sellers are published as keys: the raw seller ids are keyed the contract's way.
    seller_of = dict(query(full_db, "select listing_id, seller_key from marts.dim_listings"))
    reversed_trades = {
        person_key(seller, TEST_SALT): times
        for seller, times in cancelled_after(sample_raw_dir, cut).items()
    }
    corrected = []
    for row in early:
        listing, created = row[0], row[1]
        extra = sum(t < created for t in reversed_trades.get(seller_of[listing], []))
        corrected.append((*row[:7], row[7] - extra, row[8]))
    assert corrected == full


def test_the_cut_build_really_lacks_later_data(cut_build: tuple[Path, datetime]) -> None:
    cut_db, cut = cut_build
    [(last_day,)] = query(cut_db, "select max(activity_date) from marts.fct_daily_active_users")
    assert last_day < cut.date()
    counts = Counter(
        row[0]
        for row in query(
            cut_db,
            "select created_at >= "
            f"'{cut.replace(tzinfo=None)}' from ml.listing_popularity_features",
        )
    )
    assert counts[True] == 0
