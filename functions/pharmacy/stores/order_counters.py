"""The `order_counters` collection.

The `order_counters` collection: one counter document per local day, `$inc`ed atomically
(`core.sequences`; D-23: the number was "last order today + 1", read then written, so
concurrent orders collided).
"""

from __future__ import annotations

from collections.abc import Sequence

from functions.core import sequences
from functions.core.db import get_db

COUNTERS = "order_counters"

INDEXES: dict[str, list[object]] = {}  # keyed by `_id` only


def next_sequence(day_key: str) -> int:
    """The next number of that day (1, 2, ...) (`core.sequences`): the counter document `{_id: <day_key>}`."""
    return sequences.next_sequence(get_db()[COUNTERS], day_key)


def day_counts(day_keys: Sequence[str]) -> int:
    """Orders numbered on those days (one `$in` read by `_id`)."""
    return sum(int(d.get("seq", 0)) for d in get_db()[COUNTERS].find({"_id": {"$in": list(day_keys)}}))
