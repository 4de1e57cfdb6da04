"""Raw files -> Parquet lake + quarantine: one asset per raw source (docs/sources.md),
with its checks: rows conserved (blocking), and on the dated sources the volume of each
delivery and the freshness of the newest (warnings)."""

import math
import os
import statistics
import warnings
from collections.abc import Callable
from datetime import date, timedelta

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetsDefinition,
    BackfillPolicy,
    Backoff,
    BetaWarning,
    MaterializeResult,
    MetadataValue,
    RetryPolicy,
    asset,
)
from dagster._core.storage.tags import SCHEDULE_NAME_TAG, SENSOR_NAME_TAG

from orchestration import landing
from orchestration.clock import today_kst
from orchestration.landing.deliveries import DAY_KEY
from orchestration.partitions import daily_partitions, window_of
from orchestration.resources import WAREHOUSE_POOL, PlatformResource
from orchestration.window import Calendar, DeliveryWindow

# `backfill_policy` is marked beta in Dagster 1.13: chosen deliberately (a backfill of any
# range is one run), so its warning would only be noise in every run and every test.
warnings.filterwarnings("ignore", message="Parameter `backfill_policy`", category=BetaWarning)

# Volume anomaly: a delivery far from the deliveries of the same weekday before it.
# The volume check's band: the median of the same weekday in the trailing weeks, plus or
# minus VOLUME_SIGMAS spreads, a spread being the largest of the history's MAD (scaled to a
# standard deviation), chance (a Poisson count's square root) and 15 % of the median.
VOLUME_WEEKS, VOLUME_MIN_WEEKS = 4, 2
VOLUME_HISTORY = 14  # deliveries shown in the check's metadata
VOLUME_SIGMAS, VOLUME_MIN_SPREAD, MAD_TO_SIGMA = 3.0, 0.15, 1.4826
# Above the band only a jump past this multiple of the median is news: a growing business
# outgrows a four-week median every week, and a drop is what loses data. A source whose
# median is below VOLUME_JUMP_MIN_MEDIAN rows is not judged for jumps: from 1 row to 9 is
# chance (seen on the sample's moderation labels), not news.
VOLUME_JUMP, VOLUME_JUMP_MIN_MEDIAN = 5.0, 20

# A landing only fails on its own for transient reasons (a file system hiccup): retry it.
TRANSIENT_RETRY = RetryPolicy(max_retries=2, delay=5, backoff=Backoff.EXPONENTIAL)

CONSERVATION_CHECK = "rows_conserved"
VOLUME_CHECK = "volume_within_normal_range"
FRESHNESS_CHECK = "lake_is_fresh"
INGEST_GROUP = "ingest"
OWNERS = ["team:data-platform"]


def asset_name(source: str) -> str:
    return f"raw_{source}"


def landing_metadata(report: landing.LandingReport) -> dict[str, object]:
    """What a data engineer checks first after a landing."""
    reasons = report.quarantined_by_reason
    reason_table = (
        "\n".join(
            [
                "| reason | rows |",
                "|---|---|",
                *[f"| {why} | {n} |" for why, n in sorted(reasons.items())],
            ]
        )
        if reasons
        else "no rows quarantined"
    )
    metadata: dict[str, object] = {
        "files_read": MetadataValue.int(len(report.files_read)),
        "rows_received": MetadataValue.int(report.rows_received),
        "rows_loaded": MetadataValue.int(report.rows_loaded),
        "rows_quarantined": MetadataValue.int(report.rows_quarantined),
        "quarantined_by_reason": MetadataValue.md(reason_table),
        "quarantine_reasons": MetadataValue.json(dict(sorted(reasons.items()))),
        "dagster/row_count": MetadataValue.int(report.rows_loaded),
    }
    if report.rejected_files:
        metadata["rejected_files"] = MetadataValue.json(report.rejected_files)
    if report.extra_columns:
        metadata["ignored_extra_columns"] = MetadataValue.json(report.extra_columns)
    if report.deliveries:
        metadata["deliveries_landed"] = MetadataValue.text(
            f"{report.deliveries[0]} .. {report.deliveries[-1]} ({len(report.deliveries)})"
        )
    if report.partitions:
        metadata["event_dates"] = MetadataValue.text(
            f"{report.partitions[0]} .. {report.partitions[-1]} ({len(report.partitions)} days)"
        )
    return metadata


def conservation_result(report: landing.LandingReport) -> AssetCheckResult:
    return AssetCheckResult(
        check_name=CONSERVATION_CHECK,
        passed=report.conserved,
        severity=AssetCheckSeverity.ERROR,
        description="received = loaded + quarantined",
        metadata={
            "rows_received": report.rows_received,
            "rows_loaded": report.rows_loaded,
            "rows_quarantined": report.rows_quarantined,
        },
    )


Landing = Callable[[PlatformResource, DeliveryWindow], landing.LandingReport]


def volume_baseline(counts: dict[str, int], delivery: str) -> list[int] | None:
    """The deliveries `delivery` is compared with: the same weekday of the trailing
    VOLUME_WEEKS weeks (weekends are not weekdays); None with fewer than VOLUME_MIN_WEEKS
    of them (too little history to judge: a comparison with other weekdays would flag
    every quiet Sunday)."""
    day = date.fromisoformat(delivery)
    same_weekday = [
        counts[key]
        for weeks in range(1, VOLUME_WEEKS + 1)
        if (key := (day - timedelta(weeks=weeks)).isoformat()) in counts
    ]
    return same_weekday if len(same_weekday) >= VOLUME_MIN_WEEKS else None


def volume_band(history: list[int]) -> tuple[float, float, float]:
    """(median, low, high) of a robust band: median ± VOLUME_SIGMAS spreads."""
    median = statistics.median(history)
    mad = statistics.median(abs(value - median) for value in history)
    spread = max(MAD_TO_SIGMA * mad, math.sqrt(median), VOLUME_MIN_SPREAD * median)
    return median, max(0.0, median - VOLUME_SIGMAS * spread), median + VOLUME_SIGMAS * spread


def volume_result(report: landing.LandingReport, counts: dict[str, int]) -> AssetCheckResult:
    """Each landed delivery's rows against a robust band from its history
    (`volume_baseline`, `volume_band`): a drop of half or three quarters is off, and so is
    a jump past VOLUME_JUMP times the median; ordinary noise, growth, weekends and small
    counts are not."""
    anomalies: dict[str, str] = {}
    for delivery in report.deliveries:
        history = volume_baseline(counts, delivery) if delivery in counts else None
        if history is None:
            continue
        median, low, high = volume_band(history)
        jump = median >= VOLUME_JUMP_MIN_MEDIAN and counts[delivery] > max(
            high, VOLUME_JUMP * median
        )
        if counts[delivery] < low or jump:
            anomalies[delivery] = (
                f"{counts[delivery]} rows, expected {low:,.0f}..{high:,.0f} "
                f"(median {median:g} of the same weekday in the last {len(history)} weeks)"
            )
    rule = (
        f"rows per delivery no lower than the median less {VOLUME_SIGMAS:g} spreads of the "
        f"same weekday in the last {VOLUME_WEEKS} weeks (MAD, chance or 15 % of the median, "
        f"whichever is largest), and below {VOLUME_JUMP:g} times that median (when it is "
        f"{VOLUME_JUMP_MIN_MEDIAN} rows or more)"
    )
    shown = [f"{day} ({counts[day]:,} row{'' if counts[day] == 1 else 's'})" for day in anomalies]
    findings = ", ".join(shown[:3]) + (f" and {len(shown) - 3} more" if len(shown) > 3 else "")
    unusual = (
        f"{len(anomalies)} deliveries far from the usual volume: {findings} (expected {rule})"
        if len(anomalies) > 1
        else f"the delivery of {findings} is far from the usual volume (expected {rule})"
    )
    days = sorted(counts)
    return AssetCheckResult(
        check_name=VOLUME_CHECK,
        passed=not anomalies,
        severity=AssetCheckSeverity.WARN,
        description=unusual if anomalies else rule,
        metadata={
            "anomalies": MetadataValue.json(anomalies),
            "rows_by_delivery": MetadataValue.md(
                "| delivery | rows |\n|---|---|\n"
                + "\n".join(f"| {day} | {counts[day]} |" for day in days[-VOLUME_HISTORY:])
            ),
        },
    )


# Runs started by the schedule or a sensor: the ones that follow the live feed.
AUTOMATION_TAGS = (SCHEDULE_NAME_TAG, SENSOR_NAME_TAG)


def freshness_result(counts: dict[str, int], judged: bool) -> AssetCheckResult:
    """The newest delivery is at most DONGNE_FRESHNESS_DAYS days behind today (KST).

    Judged only for runs that follow the live feed (`judged`: started by the schedule or
    a sensor). A build by hand of files from any date (the shipped sample, a replay of
    last month) reports the age of its newest delivery and passes: old files are not
    late files.
    """
    limit = int(os.environ.get("DONGNE_FRESHNESS_DAYS", "2"))
    dated = [day for day in counts if DAY_KEY.match(day)]
    newest = max(dated) if dated else None
    lag = (today_kst() - date.fromisoformat(newest)).days if newest else None
    fresh = lag is not None and lag <= limit
    if newest is None:
        finding = "no delivery has landed yet"
    else:
        finding = f"the newest delivery ({newest}) is {lag} days old"
    if judged:
        description = finding + ("" if fresh else f", more than the {limit} days allowed")
    else:
        description = f"{finding}; freshness is judged on scheduled and sensor runs only"
    return AssetCheckResult(
        check_name=FRESHNESS_CHECK,
        passed=fresh or not judged,
        severity=AssetCheckSeverity.WARN,
        description=description,
        metadata={
            "newest_delivery": str(newest),
            "lag_days": -1 if lag is None else lag,
            "judged": judged,
        },
    )


def build_ingest_asset(
    source: str,
    description: str,
    land: Landing,
    calendar: Calendar | None = None,
) -> AssetsDefinition:
    """The landing asset of `source`: partitioned by delivery day over `calendar` (a dated
    source), or not (a reference sheet)."""
    name = asset_name(source)
    partitions_def = daily_partitions(calendar) if calendar else None

    @asset(
        name=name,
        group_name=INGEST_GROUP,
        kinds={"duckdb", "parquet"},
        owners=OWNERS,
        description=description,
        pool=WAREHOUSE_POOL,
        partitions_def=partitions_def,
        # A backfill of any range is one run that lands its deliveries in one go.
        backfill_policy=BackfillPolicy.single_run() if partitions_def else None,
        retry_policy=TRANSIENT_RETRY,
        check_specs=[
            AssetCheckSpec(
                CONSERVATION_CHECK,
                asset=name,
                blocking=True,
                description="Every received row was loaded or quarantined with a reason.",
            ),
            *(
                [
                    AssetCheckSpec(
                        VOLUME_CHECK,
                        asset=name,
                        description="Rows per delivery near the trailing median (warns).",
                    ),
                    AssetCheckSpec(
                        FRESHNESS_CHECK,
                        asset=name,
                        description="The newest delivery is recent (warns).",
                    ),
                ]
                if partitions_def
                else []
            ),
        ],
    )
    def _ingest(context: AssetExecutionContext, platform: PlatformResource) -> MaterializeResult:
        # No partition: a full build of every delivery (see partitions.window_of).
        settings = platform.settings()
        window = window_of(context, calendar) if calendar else DeliveryWindow.every()
        report = land(platform, window)
        if report.rows_quarantined:
            reasons = ", ".join(
                f"{reason} {n}" for reason, n in sorted(report.quarantined_by_reason.items())
            )
            context.log.warning(f"{source}: {report.rows_quarantined} rows quarantined ({reasons})")
        checks = [conservation_result(report)]
        if partitions_def:
            counts = landing.delivery_row_counts(settings.lake_dir, source)
            judged = any(tag in context.run.tags for tag in AUTOMATION_TAGS)
            checks += [volume_result(report, counts), freshness_result(counts, judged)]
            for check in checks[1:]:
                if not check.passed:
                    context.log.warning(f"{source}: {check.description}")
        return MaterializeResult(metadata=landing_metadata(report), check_results=checks)

    return _ingest


def _land_events(platform: PlatformResource, window: DeliveryWindow) -> landing.LandingReport:
    settings = platform.settings()
    with platform.landing_connection() as con:  # closed at once: its memory goes back
        return landing.land_events(settings.raw_dir, settings.lake_dir, con, window=window)


def _land_table_with(spec: landing.TableSpec) -> Landing:
    def _land(platform: PlatformResource, window: DeliveryWindow) -> landing.LandingReport:
        settings = platform.settings()
        with platform.landing_connection() as con:
            return landing.land_table(spec, settings.raw_dir, settings.lake_dir, con, window=window)

    return _land


def build_ingest_assets(calendar: Calendar) -> list[AssetsDefinition]:
    """One landing asset per source: the dated ones partitioned by delivery day, over the
    code location's `calendar`."""
    return [
        build_ingest_asset(
            "events",
            "App event log (events/YYYY-MM-DD/*.jsonl[.gz]) landed as Parquet: one folder per "
            "delivery day (the partition), partitioned inside by KST event date; every "
            "delivered copy kept (de-duplicated in dbt).",
            _land_events,
            calendar,
        ),
        *[
            build_ingest_asset(
                spec.source,
                f"Production export `{spec.source}` (db/{spec.source}/YYYY-MM-DD.csv[.gz]): "
                "every valid version with its file and line, one lake folder per day file (the "
                "partition).",
                _land_table_with(spec),
                calendar,
            )
            for spec in landing.DB_TABLES.values()
        ],
        *[
            build_ingest_asset(
                spec.source,
                f"Reference sheet `reference/{spec.source}.csv`, kept by the business.",
                _land_table_with(spec),
            )
            for spec in landing.REFERENCE_TABLES.values()
        ],
    ]
