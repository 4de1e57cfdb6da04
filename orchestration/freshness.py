"""How fresh each built table is: when dbt last rebuilt it, and the newest delivery the
lake held when it did.

The near-real-time path rebuilds only the headline marts; the rest follows in the next
batch run. Meanwhile the published database holds tables of different ages, and says so:
every dbt invocation records, for each model, seed and snapshot it rebuilt, the time and
the newest landed delivery (`<DONGNE_DATA_DIR>/dbt/freshness.json`, replaced atomically),
and the publish copies both into `marts.publish_tables` (`refreshed_at_utc`,
`data_through`). A table that no run rebuilt since is left with its older record.

It also keeps the batch layer's debt (`<DONGNE_DATA_DIR>/dbt/pending_batch.json`): the
deliveries the near-real-time path took in that the next `build_everything` run must
cover.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from orchestration.landing.deliveries import DAY_KEY
from orchestration.window import DeliveryWindow

REBUILT_STATUSES = frozenset({"success"})


def freshness_path(data_dir: Path) -> Path:
    return data_dir / "dbt" / "freshness.json"


def newest_delivery(lake_dir: Path) -> str | None:
    """The newest delivery day landed in the lake (event day folders, export day folders)."""
    folders = [*lake_dir.glob("events/*"), *lake_dir.glob("db/*/*")]
    days = [folder.name for folder in folders if folder.is_dir() and DAY_KEY.match(folder.name)]
    return max(days, default=None)


def rebuilt_relations(
    results: Iterable[Mapping[str, Any]], relations: Mapping[str, tuple[str, str]]
) -> dict[str, str]:
    """`schema.table` -> when dbt finished rebuilding it (UTC, ISO), for every model, seed
    and snapshot of `results` (dbt's node results) that dbt built successfully."""
    rebuilt = {}
    for result in results:
        node = result.get("data", {}).get("node_info", {})
        unique_id = node.get("unique_id", "")
        if unique_id in relations and node.get("node_status") in REBUILT_STATUSES:
            schema, table = relations[unique_id]
            rebuilt[f"{schema}.{table}"] = node.get("node_finished_at") or ""
    return rebuilt


def load_freshness(path: Path) -> dict[str, dict[str, str | None]]:
    """`schema.table` -> {refreshed_at_utc, data_through}; empty before any record."""
    if not path.exists():
        return {}
    return json.loads(path.read_text())


def write_aside(path: Path, text: str) -> None:
    """`text` into `path` whole or not at all: written beside it, then renamed over it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fresh = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fresh.write_text(text)
    os.replace(fresh, path)


def record_refreshes(path: Path, rebuilt: Mapping[str, str], data_through: str | None) -> None:
    """Add this invocation's rebuilt tables to the record (written aside, then renamed)."""
    if not rebuilt:
        return
    record = load_freshness(path)
    for relation, finished in rebuilt.items():
        record[relation] = {"refreshed_at_utc": finished, "data_through": data_through}
    write_aside(path, json.dumps(dict(sorted(record.items())), indent=1) + "\n")


# The batch layer's debt: deliveries the near-real-time path took into the headline models
# (int_events_dated among them) that the other incremental models (the sessions) have not
# taken in yet. Every `build_everything` run widens its window to cover them, whatever
# started it (the arrival sensor's batch, the morning schedule, a build by hand), so no
# window ever leaves a delivery half built; a run that finishes clears them.


def pending_path(data_dir: Path) -> Path:
    return data_dir / "dbt" / "pending_batch.json"


def load_pending(data_dir: Path) -> DeliveryWindow | None:
    """The deliveries the batch layer still owes, or None."""
    path = pending_path(data_dir)
    if not path.exists():
        return None
    return DeliveryWindow.from_json(path.read_text())


def add_pending(data_dir: Path, window: DeliveryWindow) -> None:
    """Record that the near-real-time path is taking `window` in (before it starts: a run
    killed half way is owed too)."""
    owed = load_pending(data_dir)
    owed = window if owed is None else owed.widened(window)
    write_aside(pending_path(data_dir), owed.to_json() + "\n")


def clear_pending(data_dir: Path, covered: DeliveryWindow) -> None:
    """A batch run over `covered` finished: what it covered is paid."""
    owed = load_pending(data_dir)
    if owed is not None and covered.contains(owed):
        pending_path(data_dir).unlink(missing_ok=True)


def with_pending(window: DeliveryWindow, data_dir: Path) -> DeliveryWindow:
    """A batch run's window, widened to the deliveries the batch layer owes."""
    owed = load_pending(data_dir)
    return window if owed is None else window.widened(owed)
