"""The `order_holds` collection: what each customer holds open at each pharmacy (stock hoarding).

One document per (customer, pharmacy), `{_id: "<customer>|<pharmacy>", open, units: {<medicine>:
n}, orders: {<order>: {at, units}}, holdsPending}`: the number of open orders and the units of
each medicine they hold. Placing an order takes a hold in one conditional upsert (the limits are
the filter, so 20 concurrent placings against a limit of N get exactly N); the order's record
(`orders.<order>`) makes its release happen at most once (cancel, delivery, the placing's own
compensation, the repair sweep).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, IndexModel

from functions.core.db import get_db, unless_duplicate

ORDER_HOLDS = "order_holds"

INDEXES = {ORDER_HOLDS: [IndexModel([("holdsPending", ASCENDING)], name="holds_pending")]}


def _coll() -> Any:
    return get_db()[ORDER_HOLDS]


def hold_id(customer_id: ObjectId, pharmacy_id: ObjectId) -> str:
    return f"{customer_id}|{pharmacy_id}"


def take(customer_id: ObjectId, pharmacy_id: ObjectId, order_id: ObjectId, units: Mapping[ObjectId, int],
         max_open: int, max_units: int, now: datetime) -> bool:
    """Hold one more open order and its units if the customer stays within `max_open` open orders
    at this pharmacy and `max_units` of each medicine: one conditional upsert (a second write only
    when the first placing of this customer here races another)."""
    if any(qty > max_units for qty in units.values()):
        return False  # (the filter below cannot refuse it for a medicine not held yet)
    query: dict[str, Any] = {"_id": hold_id(customer_id, pharmacy_id), "open": {"$lt": max_open}}
    for medicine, qty in units.items():  # a medicine not held yet matches too
        query[f"units.{medicine}"] = {"$not": {"$gte": max_units - qty + 1}}
    record = {"at": now, "units": {str(m): q for m, q in units.items()}}
    update = {"$inc": {"open": 1, **{f"units.{m}": q for m, q in units.items()}},
              "$set": {f"orders.{order_id}": record, "holdsPending": True}}
    with unless_duplicate() as full:
        _coll().update_one(query, update, upsert=True)
    if not full:
        return True
    # the document exists: either it refused (a limit) or another first placing created it meanwhile
    return bool(_coll().update_one(query, update).modified_count == 1)


def release(customer_id: ObjectId, pharmacy_id: ObjectId, order_id: ObjectId, units: Mapping[ObjectId, int]) -> bool:
    """Give back the hold of `order_id` (its `units`, as taken) if it is still recorded: at most
    once, whoever repeats it, and nothing if it never applied. One conditional update."""
    result = _coll().update_one(
        {"_id": hold_id(customer_id, pharmacy_id), f"orders.{order_id}": {"$exists": True}},
        {"$inc": {"open": -1, **{f"units.{m}": -int(q) for m, q in units.items()}},
         "$unset": {f"orders.{order_id}": ""}})
    return bool(result.modified_count == 1)


def with_pending(cap: int) -> list[dict[str, Any]]:
    """Up to `cap` holds holding order records (one indexed equality)."""
    return list(_coll().find({"holdsPending": True}, {"orders": 1}).limit(cap))


def clear_pending_flag(doc_id: str) -> None:
    """Drop the flag once no record is left (a hold taken meanwhile keeps it)."""
    _coll().update_one({"_id": doc_id, "orders": {}}, {"$unset": {"holdsPending": ""}})


def delete_closed(customer_id: ObjectId, pharmacy_id: ObjectId) -> bool:
    """The customer's hold document at that pharmacy, once it holds no open order (the erase)."""
    gone = get_db()[ORDER_HOLDS].delete_one({"_id": hold_id(customer_id, pharmacy_id), "open": 0})
    return bool(gone.deleted_count)
