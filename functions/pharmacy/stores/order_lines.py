"""The `order_lines` collection.

The `order_lines` collection: one document per item of an order, with the order's pharmacy,
local day and line total, so the report groups by medicine with `$match`/`$group`/`$sum` only
(the embedded engine has no `$unwind`-free way to group array items, no `$multiply` and no date
operators).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, IndexModel

from functions.core.db import get_db, insert_many_unless_duplicate
from functions.pharmacy.stores.grouping import grouped_sums

LINES = "order_lines"

INDEXES = {
    LINES: [
        IndexModel([("pharmacy", ASCENDING), ("localDay", ASCENDING)], name="pharmacy_day"),
        IndexModel([("order", ASCENDING)], name="order"),
    ],
}


def _coll() -> Any:
    return get_db()[LINES]


def insert(lines: Sequence[dict[str, Any]]) -> None:
    """The report lines of an order already inserted (so lines never point nowhere)."""
    if lines:
        _coll().insert_many(list(lines), ordered=False)


def insert_once(lines: Sequence[dict[str, Any]]) -> None:
    """`insert` by deterministic ids (`<order>:<index>`): lines already there are refused, not
    doubled, so the outbox's handler may run again."""
    if lines:
        insert_many_unless_duplicate(_coll(), [{"_id": f"{line['order']}:{i}", **line} for i, line in enumerate(lines)],
                                     ordered=False)


def has_lines(order_id: ObjectId) -> bool:
    """Whether the order has report lines (one equality on the indexed `order`)."""
    return _coll().find_one({"order": order_id}, {"_id": 1}) is not None


def retire(order_id: ObjectId) -> None:
    """A cancelled order's lines stop counting in reports."""
    _coll().update_many({"order": order_id}, {"$set": {"live": False}})


def medicine_totals(pharmacy_id: ObjectId, first_day: str, last_day: str) -> list[dict[str, Any]]:
    """Per medicine (with its name and manufacturer as ordered): units and line totals of the
    orders of that period that were not cancelled."""
    return grouped_sums(_coll(), {"pharmacy": pharmacy_id, "localDay": {"$gte": first_day, "$lte": last_day},
                                  "live": True},
                        {"medicine": "$medicine", "name": "$name", "manufacturer": "$manufacturer"},
                        {"quantity": "$quantity", "revenue": "$lineTotal"})
