"""`hospitals` (admin-managed): the only module issuing commands to it, and its indexes.

Hospitals are found by equality on the caller's pincode, then its area (first three digits:
the sorting district), then the city's folded name: each an indexed equality.
"""

from __future__ import annotations

from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument

from functions.core.db import get_db
from functions.core.paging import find_page

HOSPITALS = "hospitals"
_NEAREST = [("rank", ASCENDING), ("name", ASCENDING)]  # public (0) before private (1), then by name

INDEXES = {
    HOSPITALS: [
        IndexModel([("pincode", ASCENDING), ("active", ASCENDING), *_NEAREST], name="by_pincode"),
        IndexModel([("pincodeArea", ASCENDING), ("active", ASCENDING), *_NEAREST], name="by_area"),
        IndexModel([("cityKey", ASCENDING), ("active", ASCENDING), *_NEAREST], name="by_city"),
        IndexModel([("active", ASCENDING), ("createdAt", DESCENDING)], name="admin_list"),
    ],
}
_SAY = {"name": 1, "phone": 1, "address": 1, "kind": 1}


def insert_hospital(doc: dict[str, Any]) -> None:
    get_db()[HOSPITALS].insert_one(doc)


def get_hospital(hospital_id: ObjectId) -> dict[str, Any] | None:
    found: dict[str, Any] | None = get_db()[HOSPITALS].find_one({"_id": hospital_id})
    return found


def update_hospital(hospital_id: ObjectId, changes: dict[str, Any]) -> dict[str, Any] | None:
    """One atomic `$set`; the hospital after, or None if it does not exist."""
    found: dict[str, Any] | None = get_db()[HOSPITALS].find_one_and_update(
        {"_id": hospital_id}, {"$set": changes}, return_document=ReturnDocument.AFTER)
    return found


def delete_hospital(hospital_id: ObjectId) -> bool:
    return get_db()[HOSPITALS].delete_one({"_id": hospital_id}).deleted_count == 1


def list_hospitals(query: dict[str, Any], skip: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    return find_page(get_db()[HOSPITALS], query, sort=[("createdAt", DESCENDING), ("_id", DESCENDING)], skip=skip,
                     limit=limit)


def nearest(field: str, value: str, limit: int) -> list[dict[str, Any]]:
    """Active hospitals whose `field` equals `value`, public first (one indexed read)."""
    return list(get_db()[HOSPITALS].find({field: value, "active": True}, _SAY).sort(_NEAREST).limit(limit))
