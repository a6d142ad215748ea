"""Sums per group on the embedded engine.

Sums per group on the embedded engine: `$match`, then `$group` with one `$sum` per pipeline,
merged by group (the engine answers 0 for every accumulator after the first one of a `$group`,
tests/db/test_shapes_pharmacy.py). The store of each collection passes its own collection.
"""

from __future__ import annotations

from typing import Any


def grouped_sums(collection: Any, match: dict[str, Any], key: dict[str, str],
                 sums: dict[str, Any]) -> list[dict[str, Any]]:
    """Per group of `key` (`{_id: {...key}}`), each of `sums` (0 where a group has none)."""
    merged: dict[tuple[Any, ...], dict[str, Any]] = {}
    for name, expression in sums.items():
        pipeline: list[dict[str, Any]] = [{"$match": match}, {"$group": {"_id": key, name: {"$sum": expression}}}]
        for row in collection.aggregate(pipeline):
            group = row["_id"] or {}
            entry = merged.setdefault(tuple(sorted(group.items(), key=lambda kv: kv[0])), {"_id": group})
            entry[name] = row[name]
    return [{**{name: 0 for name in sums}, **row} for row in merged.values()]
