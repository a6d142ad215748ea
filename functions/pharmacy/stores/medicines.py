"""The `medicines` collection.

Stock is only ever changed by conditional single-document writes: `take` succeeds only while
`stock >= qty` (never negative, D-24: concurrent orders oversold into negative stock), `give_back`
is the explicit compensation. `listed` mirrors "active and its pharmacy is verified and active",
so the public catalogue is one collection with one equality, no join (D-16: medicines of
unverified or suspended pharmacies were public).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument

from functions.core.db import get_db
from functions.core.paging import find_page

MEDICINES = "medicines"

INDEXES = {
    MEDICINES: [
        IndexModel([("pharmacy", ASCENDING), ("isActive", ASCENDING), ("name", ASCENDING)], name="pharmacy_active"),
        IndexModel([("pharmacy", ASCENDING), ("expiryDate", ASCENDING)], name="pharmacy_expiry"),
        # category first: the embedded server indexes an index's first key for equality, and a
        # category is selective where `listed` is not (MongoDB serves both orders alike)
        IndexModel([("category", ASCENDING), ("listed", ASCENDING), ("name", ASCENDING)], name="category_listed"),
        # the default order, read a page at a time from the index (name then _id, as the sort asks)
        IndexModel([("listed", ASCENDING), ("name", ASCENDING), ("_id", ASCENDING)], name="listed_name_id"),
        IndexModel([("listed", ASCENDING), ("expiryDate", ASCENDING)], name="listed_expiry"),  # the catalogue's total
        IndexModel([("listed", ASCENDING), ("price", ASCENDING)], name="listed_price"),
        IndexModel([("listed", ASCENDING), ("createdAt", DESCENDING)], name="listed_newest"),
        IndexModel([("listed", ASCENDING), ("soldCount", DESCENDING)], name="listed_popular"),
        IndexModel([("listed", ASCENDING), ("rating", DESCENDING), ("soldCount", DESCENDING)], name="listed_rating"),
        IndexModel([("searchTokens", ASCENDING), ("listed", ASCENDING)], name="search_tokens"),
        IndexModel([("takesPending", ASCENDING)], name="takes_pending"),  # the repair sweep
    ]
}


def _coll() -> Any:
    return get_db()[MEDICINES]


def insert(doc: dict[str, Any]) -> ObjectId:
    return ObjectId(_coll().insert_one(doc).inserted_id)


def insert_many(docs: Sequence[dict[str, Any]]) -> list[ObjectId]:
    """Insert already-validated rows (ordered; ids are assigned by the caller)."""
    if not docs:
        return []
    return [ObjectId(i) for i in _coll().insert_many(list(docs), ordered=True).inserted_ids]


def delete_new(pharmacy_id: ObjectId, ids: Sequence[ObjectId]) -> int:
    """Undo an insert of new medicines (a bulk upload that failed part-way)."""
    return int(_coll().delete_many({"pharmacy": pharmacy_id, "_id": {"$in": list(ids)}}).deleted_count)


def get(medicine_id: ObjectId) -> dict[str, Any] | None:
    return _coll().find_one({"_id": medicine_id})  # type: ignore[no-any-return]


def get_owned(pharmacy_id: ObjectId, medicine_id: ObjectId) -> dict[str, Any] | None:
    return _coll().find_one({"_id": medicine_id, "pharmacy": pharmacy_id})  # type: ignore[no-any-return]


def get_listed(medicine_id: ObjectId, now: datetime) -> dict[str, Any] | None:
    """A medicine the public may see: listed and not expired."""
    return _coll().find_one(  # type: ignore[no-any-return]
        {"_id": medicine_id, "listed": True, "expiryDate": {"$gt": now}})


def update_owned(pharmacy_id: ObjectId, medicine_id: ObjectId, changes: dict[str, Any]) -> dict[str, Any] | None:
    """One write to a medicine of that pharmacy; the document after, or None if not theirs. A
    write that lists the medicine applies only while its pharmacy is still listed (`shopListed`,
    set by `relist_pharmacy` before `listed`): an admin suspending meanwhile makes it miss."""
    query: dict[str, Any] = {"_id": medicine_id, "pharmacy": pharmacy_id}
    if changes.get("listed"):
        query["shopListed"] = {"$ne": False}
    return _coll().find_one_and_update(  # type: ignore[no-any-return]
        query, {"$set": changes}, return_document=ReturnDocument.AFTER)


def set_stock(pharmacy_id: ObjectId, medicine_id: ObjectId, stock: int, now: datetime) -> bool:
    """Set the stock of one medicine of that pharmacy; False if it is not theirs."""
    result = _coll().update_one({"_id": medicine_id, "pharmacy": pharmacy_id},
                                {"$set": {"stock": stock, "updatedAt": now}})
    return bool(result.matched_count == 1)


def take(pharmacy_id: ObjectId, medicine_id: ObjectId, qty: int, order_id: ObjectId,
         now: datetime) -> dict[str, Any] | None:
    """Take `qty` units for `order_id` if, at this instant, the medicine belongs to the pharmacy,
    is active, unexpired and has at least `qty` in stock: the medicine as it was (its price and
    snapshot fields, so placing an order needs no read before), or None. One conditional
    `find_one_and_update`: concurrent takers never drive stock below zero, whatever their number.
    The same write records the take (`takes.<order>`: quantity and time, and the indexed flag
    `takesPending`), so giving it back happens at most once and the repair sweep finds takes whose
    order was never stored. While a take is recorded, an edit keeps the images it replaces
    (`inventory.update`); the order's effect remembers its snapshot's image (`remember_image`)."""
    found: dict[str, Any] | None = _coll().find_one_and_update(
        {"_id": medicine_id, "pharmacy": pharmacy_id, "isActive": True, "expiryDate": {"$gt": now},
         "stock": {"$gte": qty}},
        {"$inc": {"stock": -qty, "soldCount": qty},
         "$set": {f"takes.{order_id}": {"quantity": qty, "at": now}, "takesPending": True}},
        return_document=ReturnDocument.BEFORE)
    return found


def remember_image(medicine_id: ObjectId, public_id: str) -> None:
    """The image an order's snapshot shows is kept when the medicine's images are replaced
    (`orderedImages`); idempotent."""
    _coll().update_one({"_id": medicine_id}, {"$addToSet": {"orderedImages": public_id}})


def give_back_take(medicine_id: ObjectId, order_id: ObjectId, qty: int) -> bool:
    """Give back the take of `order_id` if it is still recorded: at most once, whoever repeats
    it (the placing's compensation, a cancel, the repair sweep), and nothing if it never applied."""
    result = _coll().update_one({"_id": medicine_id, f"takes.{order_id}": {"$exists": True}},
                                {"$inc": {"stock": qty, "soldCount": -qty}, "$unset": {f"takes.{order_id}": ""}})
    return bool(result.modified_count == 1)


def give_back(medicine_id: ObjectId, qty: int) -> None:
    """Give back units of an order placed before takes were recorded (its cancel wins once)."""
    _coll().update_one({"_id": medicine_id}, {"$inc": {"stock": qty, "soldCount": -qty}})


def settle_take(medicine_id: ObjectId, order_id: ObjectId) -> bool:
    """Forget the record of a take whose order is delivered (the units stay sold)."""
    result = _coll().update_one({"_id": medicine_id, f"takes.{order_id}": {"$exists": True}},
                                {"$unset": {f"takes.{order_id}": ""}})
    return bool(result.modified_count == 1)


def with_pending_takes(cap: int) -> list[dict[str, Any]]:
    """Up to `cap` medicines holding take records (one indexed equality)."""
    return list(_coll().find({"takesPending": True}, {"takes": 1}).limit(cap))


def clear_pending_flag(medicine_id: ObjectId) -> None:
    """Drop the flag once no record is left (a take recorded meanwhile keeps it)."""
    _coll().update_one({"_id": medicine_id, "takes": {}}, {"$unset": {"takesPending": ""}})


def for_pharmacy(pharmacy_id: ObjectId, ids: Sequence[ObjectId]) -> list[dict[str, Any]]:
    """The medicines among `ids` that belong to the pharmacy (one `$in` read)."""
    return list(_coll().find({"pharmacy": pharmacy_id, "_id": {"$in": list(ids)}}))


def by_ids(ids: Sequence[ObjectId], projection: dict[str, Any] | None = None) -> dict[ObjectId, dict[str, Any]]:
    if not ids:
        return {}
    return {doc["_id"]: doc for doc in _coll().find({"_id": {"$in": list(set(ids))}}, projection)}


def relist_pharmacy(pharmacy_id: ObjectId, listed: bool) -> int:
    """Bring every medicine of the pharmacy in step with the pharmacy's `listed` flag: first
    `shopListed` on all of them (which an owner's listing write requires, `update_owned`), then
    `listed` on the active ones, so an edit racing a suspension either lands before it (and is
    unlisted by it) or misses."""
    coll = _coll()
    coll.update_many({"pharmacy": pharmacy_id}, {"$set": {"shopListed": listed}})
    result = coll.update_many({"pharmacy": pharmacy_id, "isActive": True}, {"$set": {"listed": listed}})
    return int(result.modified_count)


def page(query: dict[str, Any], sort: list[tuple[str, int]], skip: int, limit: int,
         projection: dict[str, Any] | None = None) -> tuple[list[dict[str, Any]], int]:
    """One sorted page and the total. `query` carries `listed`, `pharmacy` or `searchTokens` as
    a top-level equality. The count is asked for only when the page does not tell it (a full
    page, or an empty page past the first)."""
    return find_page(_coll(), query, sort=sort, skip=skip, limit=limit, projection=projection)


def all_of_pharmacy(pharmacy_id: ObjectId, query: dict[str, Any], projection: dict[str, Any] | None,
                    cap: int) -> list[dict[str, Any]]:
    """Up to `cap` of the pharmacy's medicines matching `query` (for rules the engine cannot
    evaluate, such as `stock <= minStock`, applied by the caller over this bounded read)."""
    return list(_coll().find({"pharmacy": pharmacy_id, **query}, projection).limit(cap))


def count(query: dict[str, Any]) -> int:
    return int(_coll().count_documents(query))


def count_by_category(now: datetime) -> dict[str, int]:
    """Listed, unexpired medicines per category: `$match` (top-level `listed`) / `$group` / `$sum`."""
    pipeline: list[dict[str, Any]] = [{"$match": {"listed": True, "expiryDate": {"$gt": now}}},
                {"$group": {"_id": "$category", "count": {"$sum": 1}}}]
    return {str(row["_id"]): int(row["count"]) for row in _coll().aggregate(pipeline)}
