"""What a build tells its user at the end, once: rows landed per source (received, loaded,
quarantined and why), warnings in plain words, the classifier's score, what it published,
and where the files are. `python -m orchestration.cli summary` prints the published part
again, with every quarantined row in the lake by source and reason."""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
from dagster import AssetCheckSeverity, ExecuteInProcessResult

from orchestration.preflight import UserError
from orchestration.settings import Settings


@dataclass(frozen=True)
class Landed:
    """One source's landing in a run."""

    source: str
    received: int
    loaded: int
    quarantined: int
    reasons: dict[str, int] = field(default_factory=dict)


def landing_counts(result: ExecuteInProcessResult) -> list[Landed]:
    """Every raw source the run landed, by name. A ranged run records one materialization
    per partition with the same numbers: each source is counted once."""
    landed: dict[str, Landed] = {}
    for event in result.get_asset_materialization_events():
        materialization = event.event_specific_data.materialization
        metadata = materialization.metadata
        if "rows_received" not in metadata:
            continue
        source = materialization.asset_key.to_user_string().removeprefix("raw_")
        reasons = metadata.get("quarantine_reasons")
        landed[source] = Landed(
            source=source,
            received=int(metadata["rows_received"].value),
            loaded=int(metadata["rows_loaded"].value),
            quarantined=int(metadata["rows_quarantined"].value),
            reasons=dict(reasons.value) if reasons is not None else {},
        )
    return [landed[source] for source in sorted(landed)]


def warnings_in_words(result: ExecuteInProcessResult) -> list[str]:
    """Every check of the run that failed without failing it (a warning), as a sentence."""
    lines = []
    for evaluation in result.get_asset_check_evaluations():
        if evaluation.passed or evaluation.severity != AssetCheckSeverity.WARN:
            continue
        asset = evaluation.asset_key.to_user_string()
        finding = evaluation.description or f"check {evaluation.check_name} failed"
        lines.append(f"{asset}: {finding}")
    return sorted(lines)


def landed_lines(landed: list[Landed]) -> list[str]:
    lines = ["Landed by this run (received = loaded + quarantined, quarantine reasons):"]
    for row in landed:
        why = ", ".join(f"{reason} {n:,}" for reason, n in sorted(row.reasons.items()))
        lines.append(
            f"  {row.source:<22} {row.received:>11,} = {row.loaded:>11,} + "
            f"{row.quarantined:>7,}{f'  ({why})' if why else ''}"
        )
    return lines


def published_lines(settings: Settings) -> list[str]:
    """The published tables and their rows, two to a line."""
    path = settings.analytics_path
    if not path.exists():
        raise UserError(f"nothing published yet at {path}: run `make run` first.")
    with duckdb.connect(str(path), read_only=True) as con:
        names = [
            name
            for (name,) in con.execute("""
                select schema_name || '.' || table_name from duckdb_tables()
                where schema_name in ('marts', 'ml') order by 1
            """).fetchall()
        ]
        width = max(map(len, names), default=0)
        cells = [
            f"{name:<{width}} {con.execute(f'select count(*) from {name}').fetchall()[0][0]:>9,}"
            for name in names
        ]
    lines = [f"Published {len(names)} tables (rows) to {path.name}:"]
    lines += ["  " + "   ".join(cells[i : i + 2]) for i in range(0, len(cells), 2)]
    return lines


def where_lines(settings: Settings) -> list[str]:
    quarantine = settings.lake_dir / "quarantine"
    return [
        f"Analytics database : {settings.analytics_path}  (read it: make sql Q='select ...')",
        f"Quarantined rows   : {quarantine}/<source>/ (file, line, reason, raw text; "
        "the reasons are explained in docs/sources.md)",
        "Dagster UI         : make dev  -> http://127.0.0.1:3000   "
        "dbt docs: make docs -> http://127.0.0.1:8080",
    ]


def quarantine_lines(settings: Settings) -> list[str]:
    """Every quarantined row in the lake, by source and reason."""
    quarantine = settings.lake_dir / "quarantine"
    if not any(quarantine.glob("**/*.parquet")):
        return ["Quarantined raw rows: none"]
    with duckdb.connect() as con:
        reasons = con.execute(f"""
            select source, reason, count(*)
            from read_parquet('{quarantine}/**/*.parquet', union_by_name = true)
            group by all order by 1, 2
        """).fetchall()
    lines = ["Quarantined raw rows in the lake (by source and reason):"]
    lines += [f"  {source:<24} {reason:<26} {count:>9,}" for source, reason, count in reasons]
    return lines


def print_build_summary(settings: Settings, result: ExecuteInProcessResult) -> None:
    """The end of `make run`: landed, warnings, published, where things are."""
    lines = ["", *landed_lines(landing_counts(result))]
    warnings = warnings_in_words(result)
    if warnings:
        lines += ["", f"Warnings ({len(warnings)}):", *[f"  {w}" for w in warnings]]
    for event in result.get_asset_materialization_events():
        materialization = event.event_specific_data.materialization
        if materialization.asset_key.to_user_string() == "moderation_classifier":
            metadata = materialization.metadata
            lines += [
                "",
                f"Moderation classifier: macro F1 {metadata['macro_f1'].value:.3f} on "
                f"{metadata['test_rows'].value} test rows",
            ]
    lines += ["", *published_lines(settings), "", *where_lines(settings)]
    print("\n".join(lines))


def print_summary(settings: Settings) -> None:
    """What the last build published and quarantined (`cli summary`)."""
    lines = ["", *published_lines(settings), "", *quarantine_lines(settings)]
    lines += ["", *where_lines(settings)]
    print("\n".join(lines))
