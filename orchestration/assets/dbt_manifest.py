"""What the dbt manifest says that the code location needs: the relations (models,
snapshots, seeds) with their schema, table and column descriptions, and the near-real-time
path's reach (the models the `headline` marts are built from, and the tests it leaves to
the batch run)."""

from collections.abc import Mapping
from typing import Any

from dagster import AssetCheckKey, AssetsDefinition

from orchestration.assets.dagster_dbt_private import built_from, check_key_for_test

# dbt resources that are a table or view in the warehouse (and an asset here).
RELATION_TYPES = frozenset({"model", "snapshot", "seed"})


def manifest_relations(
    manifest: Mapping[str, Any],
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The manifest's relation nodes by unique id, and its parent map."""
    nodes = {
        unique_id: node
        for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] in RELATION_TYPES
    }
    return nodes, manifest["parent_map"]


def headline_models(manifest: Mapping[str, Any]) -> set[str]:
    """The unique ids of the models tagged `headline` and of every relation above them."""
    nodes, parent_map = manifest_relations(manifest)
    found: set[str] = set()
    stack = [uid for uid, node in nodes.items() if "headline" in (node.get("tags") or [])]
    while stack:
        unique_id = stack.pop()
        if unique_id in nodes and unique_id not in found:
            found.add(unique_id)
            stack.extend(parent_map.get(unique_id, []))
    return found


def checks_beyond_headline(dbt_models: AssetsDefinition) -> list[AssetCheckKey]:
    """The dbt tests (as asset checks) that read a relation outside the headline path: the
    near-real-time run leaves them to the batch run (a test comparing sessions with events
    would compare fresh events with the last batch's sessions)."""
    manifest, _, _ = built_from(dbt_models)
    inside = headline_models(manifest)
    beyond = []
    for unique_id, node in manifest["nodes"].items():
        if node["resource_type"] != "test":
            continue
        parents = {uid for uid in node["depends_on"]["nodes"] if not uid.startswith("source.")}
        if parents & inside and not parents <= inside:
            key = check_key_for_test(dbt_models, unique_id)
            if key is not None:
                beyond.append(key)
    return beyond


def relations_by_unique_id(
    manifest: Mapping[str, Any],
) -> dict[str, tuple[str, str, dict[str, str]]]:
    """(schema, table, column descriptions) of every model, snapshot and seed."""
    nodes, _ = manifest_relations(manifest)
    return {
        unique_id: (
            node["schema"],
            node.get("alias") or node["name"],
            {
                name: column.get("description") or ""
                for name, column in (node.get("columns") or {}).items()
            },
        )
        for unique_id, node in nodes.items()
    }
