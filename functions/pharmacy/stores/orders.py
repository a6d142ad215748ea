"""The `orders` collection.

Status changes are conditional `find_one_and_update`s on the current status: of two concurrent
transitions out of one state exactly one wins, so side effects tied to a transition (restocking
on cancel) happen once (D-25). Whether an order counts as revenue (`isRevenue`) and its local day
(`localDay`) are kept on it, so figures group with `$match`/`$group`/`$sum` only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument

from functions.core.db import get_db
from functions.core.paging import find_page
from functions.pharmacy.stores.grouping import grouped_sums

ORDERS = "orders"

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
}

_LIST_PROJECTION = {"statusHistory": 0, "prescriptionLines": 0}


def _coll() -> Any:
    return get_db()[ORDERS]


def insert(order: dict[str, Any]) -> None:
    """Insert the order (the unique order number refuses a duplicate)."""
    _coll().insert_one(order)


def get(order_id: ObjectId) -> dict[str, Any] | None:
    return _coll().find_one({"_id": order_id})  # type: ignore[no-any-return]


def transition(query: dict[str, Any], changes: dict[str, Any], entry: dict[str, Any]) -> dict[str, Any] | None:
    """Change the status only if the order still matches `query` (its `_id` and the statuses
    it may leave); push the history entry in the same write. The document after, or None."""
    return _coll().find_one_and_update(  # type: ignore[no-any-return]
        query, {"$set": changes, "$push": {"statusHistory": entry}}, return_document=ReturnDocument.AFTER)


def update_where(query: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any] | None:
    """One conditional write without a history entry (rating, payment outcome)."""
    return _coll().find_one_and_update(  # type: ignore[no-any-return]
        query, {"$set": changes}, return_document=ReturnDocument.AFTER)


def page(query: dict[str, Any], skip: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    """One page newest first (by `_id`, which is time-ordered) and the total (counted only when
    the page does not tell it). `query` has a top-level equality (customer, pharmacy or
    orderStatus) or is empty for admins."""
    return find_page(_coll(), query, sort=[("_id", DESCENDING)], skip=skip, limit=limit,
                     projection=_LIST_PROJECTION)


def count(query: dict[str, Any]) -> int:
    return int(_coll().count_documents(query))


def expired_holds(now: datetime, limit: int) -> list[dict[str, Any]]:
    """Unpaid online orders whose payment hold has passed (the sweeper cancels them)."""
    cursor = _coll().find({"awaitingPayment": True, "paymentInfo.holdExpiresAt": {"$lte": now}},
                          {"_id": 1}).limit(limit)
    return list(cursor)


def placed_before(status: str, cutoff: datetime, limit: int) -> list[dict[str, Any]]:
    """Orders still in `status` that were placed at or before `cutoff` (the sweeper cancels
    unconfirmed ones)."""
    return list(_coll().find({"orderStatus": status, "createdAt": {"$lte": cutoff}}, {"_id": 1}).limit(limit))


def status_day_totals(pharmacy_id: ObjectId, first_day: str, last_day: str) -> list[dict[str, Any]]:
    """Per (status, local day, counts-as-revenue): order count and total price."""
    return grouped_sums(_coll(), {"pharmacy": pharmacy_id, "localDay": {"$gte": first_day, "$lte": last_day}},
                        {"status": "$orderStatus", "day": "$localDay", "revenue": "$isRevenue"},
                        {"count": 1, "total": "$pricing.totalPrice"})


def status_totals(match: dict[str, Any]) -> list[dict[str, Any]]:
    """Per (status, counts-as-revenue): count and total price of the orders matching `match`
    (`{"pharmacy": id}` for a pharmacy, `{"isRevenue": True}`/`{"isRevenue": False}` for admins)."""
    return grouped_sums(_coll(), match, {"status": "$orderStatus", "revenue": "$isRevenue"},
                        {"count": 1, "total": "$pricing.totalPrice"})


def delete(order_id: ObjectId) -> None:
    """Undo the insert of an order whose placing failed after it (its client saw an error)."""
    _coll().delete_one({"_id": order_id})


def by_ids(ids: list[ObjectId]) -> dict[ObjectId, dict[str, Any]]:
    """The stored orders among `ids` (one `$in` read)."""
    if not ids:
        return {}
    return {d["_id"]: d for d in _coll().find({"_id": {"$in": ids}})}


# What an order keeps of its customer once their account is erased: its lines, amounts and
# statuses (the pharmacy's books and the dispensing trail), the customer's id; not where it went.
CUSTOMER_PERSONAL = ("shippingAddress", "specialInstructions")


def anonymise_customer(customer_id: ObjectId) -> int:
    """The erase of a customer's account: the address and notes of each of their orders removed."""
    result = _coll().update_many({"customer": customer_id}, {"$unset": dict.fromkeys(CUSTOMER_PERSONAL, "")})
    return int(result.modified_count)


def pharmacies_of(customer_id: ObjectId, limit: int) -> set[ObjectId]:
    """The pharmacies the customer ordered from (newest orders first, at most `limit` orders read)."""
    found = _coll().find({"customer": customer_id}, {"pharmacy": 1}).sort([("_id", DESCENDING)]).limit(limit)
    return {doc["pharmacy"] for doc in found}
