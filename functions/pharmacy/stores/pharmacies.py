"""The `pharmacies` collection.

One pharmacy per owner and one per licence number: both are unique indexes, so two concurrent
registrations cannot both succeed (D-44: the owner was not unique). `listed` = verified and
active, kept in the same write that changes either, so public reads filter on one flag.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument

from functions.core.db import get_db, insert_unless_duplicate
from functions.core.paging import find_page

PHARMACIES = "pharmacies"

INDEXES = {
    PHARMACIES: [
        IndexModel([("owner", ASCENDING)], unique=True, name="uniq_owner"),
        IndexModel([("licenseKey", ASCENDING)], unique=True, name="uniq_license"),
        IndexModel([("listed", ASCENDING), ("createdAt", DESCENDING)], name="listed_recent"),
        IndexModel([("verificationStatus", ASCENDING), ("createdAt", DESCENDING)], name="verification_recent"),
    ]
}


def _coll() -> Any:
    return get_db()[PHARMACIES]


def insert(doc: dict[str, Any]) -> str | None:
    """Insert a new pharmacy. On a unique-index refusal return which key clashed ("owner" or
    "license"), else None."""
    if insert_unless_duplicate(_coll(), doc):
        return None
    return "owner" if _coll().find_one({"owner": doc["owner"]}, {"_id": 1}) else "license"


def by_owner(owner_id: ObjectId) -> dict[str, Any] | None:
    """The owner's pharmacy (at most one, by the unique index)."""
    return _coll().find_one({"owner": owner_id})  # type: ignore[no-any-return]


def get(pharmacy_id: ObjectId) -> dict[str, Any] | None:
    return _coll().find_one({"_id": pharmacy_id})  # type: ignore[no-any-return]


def get_listed(pharmacy_id: ObjectId) -> dict[str, Any] | None:
    """The pharmacy if it is verified and active, else None."""
    return _coll().find_one({"_id": pharmacy_id, "listed": True})  # type: ignore[no-any-return]


def update_owned(owner_id: ObjectId, changes: dict[str, Any]) -> dict[str, Any] | None:
    """Apply allow-listed changes to the owner's pharmacy (one write); the document after."""
    return _coll().find_one_and_update(  # type: ignore[no-any-return]
        {"owner": owner_id}, {"$set": changes}, return_document=ReturnDocument.AFTER)


def set_status(pharmacy_id: ObjectId, changes: dict[str, Any]) -> dict[str, Any] | None:
    """Admin verification change (status, `isVerified`, `listed`, reason) in one write."""
    return _coll().find_one_and_update(  # type: ignore[no-any-return]
        {"_id": pharmacy_id}, {"$set": changes}, return_document=ReturnDocument.AFTER)


def increment(pharmacy_id: ObjectId, counters: dict[str, int]) -> None:
    """Atomic counter updates (`totalOrders`, `totalMedicines`, `ratingSum`, `totalReviews`)."""
    _coll().update_one({"_id": pharmacy_id}, {"$inc": counters})


def set_counters(pharmacy_id: ObjectId, values: dict[str, int]) -> None:
    """Counters recounted from their source (`totalOrders`): idempotent, unlike `increment`."""
    _coll().update_one({"_id": pharmacy_id}, {"$set": values})


def list_page(query: dict[str, Any], skip: int, limit: int,
              projection: dict[str, Any] | None = None) -> tuple[list[dict[str, Any]], int]:
    """One page, newest first, and the total (counted only when the page does not tell it).
    `query` always carries a top-level equality (`listed` or `verificationStatus`) or is empty
    (admin, sorted by `_id`)."""
    return find_page(_coll(), query, sort=[("_id", DESCENDING)], skip=skip, limit=limit, projection=projection)


def by_ids(ids: Sequence[ObjectId], projection: dict[str, Any] | None = None) -> dict[ObjectId, dict[str, Any]]:
    """One `$in` read (a page of ids at most) for joins."""
    if not ids:
        return {}
    return {doc["_id"]: doc for doc in _coll().find({"_id": {"$in": list(set(ids))}}, projection)}


def count(query: dict[str, Any]) -> int:
    return int(_coll().count_documents(query))
