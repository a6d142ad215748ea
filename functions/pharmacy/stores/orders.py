"""The `orders`, `order_lines`, `order_counters` and `order_requests` collections.

- Order numbers come from one counter document per local day, `$inc`ed atomically (D-23: the
  number was "last order today + 1", read then written, so concurrent orders collided).
- An `Idempotency-Key` is a claim document keyed by `_id` = customer|key: the first request
  inserts it, a retry finds it and gets the same order (no second stock take).
- Status changes are conditional `find_one_and_update`s on the current status: of two
  concurrent transitions out of one state exactly one wins, so side effects tied to a
  transition (restocking on cancel) happen once (D-25).
- `order_lines` (one document per item, with the order's pharmacy, local day and line total)
  lets the report group by medicine with `$match`/`$group`/`$sum` only: the embedded engine
  has no `$unwind`-free way to group array items, no `$multiply` and no date operators.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument

from functions.core import sequences
from functions.core.db import get_db, insert_unless_duplicate
from functions.core.paging import find_page

ORDERS = "orders"
LINES = "order_lines"
COUNTERS = "order_counters"
REQUESTS = "order_requests"

INDEXES = {
    ORDERS: [
        IndexModel([("orderNumber", ASCENDING)], unique=True, name="uniq_number"),
        IndexModel([("customer", ASCENDING), ("createdAt", DESCENDING)], name="customer_recent"),
        IndexModel([("pharmacy", ASCENDING), ("createdAt", DESCENDING)], name="pharmacy_recent"),
        IndexModel([("pharmacy", ASCENDING), ("localDay", ASCENDING)], name="pharmacy_day"),
        IndexModel([("orderStatus", ASCENDING), ("createdAt", DESCENDING)], name="status_recent"),
        IndexModel([("isRevenue", ASCENDING)], name="revenue"),
        IndexModel([("awaitingPayment", ASCENDING), ("paymentInfo.holdExpiresAt", ASCENDING)], name="payment_hold"),
    ],
    LINES: [
        IndexModel([("pharmacy", ASCENDING), ("localDay", ASCENDING)], name="pharmacy_day"),
        IndexModel([("order", ASCENDING)], name="order"),
    ],
    REQUESTS: [IndexModel([("customer", ASCENDING)], name="customer"),
               IndexModel([("day", ASCENDING)], name="by_day")],  # the sweeper drops the claims of past days
}

_LIST_PROJECTION = {"statusHistory": 0, "prescriptionLines": 0}


def _orders() -> Any:
    return get_db()[ORDERS]


# ---------------------------------------------------------------- numbers and idempotency


def next_sequence(day_key: str) -> int:
    """The next number of that day (1, 2, ...) (`core.sequences`): the counter document `{_id: <day_key>}`."""
    return sequences.next_sequence(get_db()[COUNTERS], day_key)


def day_counts(day_keys: Sequence[str]) -> int:
    """Orders numbered on those days (one `$in` read by `_id`)."""
    return sum(int(d.get("seq", 0)) for d in get_db()[COUNTERS].find({"_id": {"$in": list(day_keys)}}))


def claim_request(key: str, customer: ObjectId, order_id: ObjectId, fingerprint: str,
                  now: datetime) -> dict[str, Any] | None:
    """Claim an idempotency key for `order_id`. None when claimed now; the earlier claim when
    the key was used before (by this customer: the key is namespaced by the caller). The claim
    carries its UTC `day` so the sweeper can drop old claims by an indexed equality."""
    coll = get_db()[REQUESTS]
    if insert_unless_duplicate(coll, {"_id": key, "customer": customer, "orderId": order_id,
                                      "fingerprint": fingerprint, "createdAt": now,
                                      "day": f"{now.astimezone(UTC).date():%Y-%m-%d}"}):
        return None
    earlier: dict[str, Any] | None = coll.find_one({"_id": key})
    return earlier


def release_request(key: str, order_id: ObjectId) -> None:
    """Drop a claim whose order was not created, so a retry can try again."""
    get_db()[REQUESTS].delete_one({"_id": key, "orderId": order_id})


def purge_requests_of_day(day: str) -> int:
    """Drop the idempotency claims made on that UTC day (one `delete_many` on the indexed `day`)."""
    return int(get_db()[REQUESTS].delete_many({"day": day}).deleted_count)


# ---------------------------------------------------------------- orders


def insert(order: dict[str, Any], lines: Sequence[dict[str, Any]] = ()) -> None:
    """Insert the order (the unique order number refuses a duplicate)."""
    _orders().insert_one(order)
    if lines:
        insert_lines(lines)


def insert_lines(lines: Sequence[dict[str, Any]]) -> None:
    """The report lines of an order already inserted (so lines never point nowhere)."""
    if lines:
        get_db()[LINES].insert_many(list(lines), ordered=False)


def get(order_id: ObjectId) -> dict[str, Any] | None:
    return _orders().find_one({"_id": order_id})  # type: ignore[no-any-return]


def transition(query: dict[str, Any], changes: dict[str, Any], entry: dict[str, Any]) -> dict[str, Any] | None:
    """Change the status only if the order still matches `query` (its `_id` and the statuses
    it may leave); push the history entry in the same write. The document after, or None."""
    return _orders().find_one_and_update(  # type: ignore[no-any-return]
        query, {"$set": changes, "$push": {"statusHistory": entry}}, return_document=ReturnDocument.AFTER)


def update_where(query: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any] | None:
    """One conditional write without a history entry (rating, payment outcome)."""
    return _orders().find_one_and_update(  # type: ignore[no-any-return]
        query, {"$set": changes}, return_document=ReturnDocument.AFTER)


def retire_lines(order_id: ObjectId) -> None:
    """A cancelled order's lines stop counting in reports."""
    get_db()[LINES].update_many({"order": order_id}, {"$set": {"live": False}})


def page(query: dict[str, Any], skip: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    """One page newest first (by `_id`, which is time-ordered) and the total (counted only when
    the page does not tell it). `query` has a top-level equality (customer, pharmacy or
    orderStatus) or is empty for admins."""
    return find_page(_orders(), query, sort=[("_id", DESCENDING)], skip=skip, limit=limit,
                     projection=_LIST_PROJECTION)


def count(query: dict[str, Any]) -> int:
    return int(_orders().count_documents(query))


def expired_holds(now: datetime, limit: int) -> list[dict[str, Any]]:
    """Unpaid online orders whose payment hold has passed (the sweeper cancels them)."""
    cursor = _orders().find({"awaitingPayment": True, "paymentInfo.holdExpiresAt": {"$lte": now}},
                            {"_id": 1}).limit(limit)
    return list(cursor)


# ---------------------------------------------------------------- aggregations ($match/$group/$sum only)


def _grouped(collection: str, match: dict[str, Any], key: dict[str, str], sums: dict[str, Any]) -> list[dict[str, Any]]:
    """`$match` then `$group` by `key` with one `$sum` per pipeline, merged by group. The
    embedded engine answers 0 for every accumulator after the first one of a `$group`
    (tests/db/test_shapes_pharmacy.py), so each sum is its own pipeline."""
    merged: dict[tuple[Any, ...], dict[str, Any]] = {}
    for name, expression in sums.items():
        pipeline: list[dict[str, Any]] = [{"$match": match}, {"$group": {"_id": key, name: {"$sum": expression}}}]
        for row in get_db()[collection].aggregate(pipeline):
            group = row["_id"] or {}
            entry = merged.setdefault(tuple(sorted(group.items(), key=lambda kv: kv[0])), {"_id": group})
            entry[name] = row[name]
    return [{**{name: 0 for name in sums}, **row} for row in merged.values()]


def status_day_totals(pharmacy_id: ObjectId, first_day: str, last_day: str) -> list[dict[str, Any]]:
    """Per (status, local day, counts-as-revenue): order count and total price."""
    return _grouped(ORDERS, {"pharmacy": pharmacy_id, "localDay": {"$gte": first_day, "$lte": last_day}},
                    {"status": "$orderStatus", "day": "$localDay", "revenue": "$isRevenue"},
                    {"count": 1, "total": "$pricing.totalPrice"})


def medicine_totals(pharmacy_id: ObjectId, first_day: str, last_day: str) -> list[dict[str, Any]]:
    """Per medicine (with its name and manufacturer as ordered): units and line totals of the
    orders of that period that were not cancelled."""
    return _grouped(LINES, {"pharmacy": pharmacy_id, "localDay": {"$gte": first_day, "$lte": last_day}, "live": True},
                    {"medicine": "$medicine", "name": "$name", "manufacturer": "$manufacturer"},
                    {"quantity": "$quantity", "revenue": "$lineTotal"})


def status_totals(match: dict[str, Any]) -> list[dict[str, Any]]:
    """Per (status, counts-as-revenue): count and total price of the orders matching `match`
    (`{"pharmacy": id}` for a pharmacy, `{"isRevenue": True}`/`{"isRevenue": False}` for admins)."""
    return _grouped(ORDERS, match, {"status": "$orderStatus", "revenue": "$isRevenue"},
                    {"count": 1, "total": "$pricing.totalPrice"})
