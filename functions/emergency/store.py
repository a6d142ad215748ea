"""MongoDB access of the emergency line: `hospitals` (admin-managed), `on_call` (one document
per doctor, keyed by the doctor's id), `ivr_callbacks` (one per caller per 10 minutes, keyed by
number and window so a repeated key press cannot queue a second one). Users are read through
`core.users`.

Hospitals are found by equality on the caller's pincode, then its area (first three digits:
the sorting district), then the city's folded name: each an indexed equality.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument

from functions.core.db import get_db, insert_unless_duplicate
from functions.core.paging import find_page

HOSPITALS, ON_CALL, CALLBACKS = "hospitals", "on_call", "ivr_callbacks"
_NEAREST = [("rank", ASCENDING), ("name", ASCENDING)]  # public (0) before private (1), then by name

INDEXES = {
    HOSPITALS: [
        IndexModel([("pincode", ASCENDING), ("active", ASCENDING), *_NEAREST], name="by_pincode"),
        IndexModel([("pincodeArea", ASCENDING), ("active", ASCENDING), *_NEAREST], name="by_area"),
        IndexModel([("cityKey", ASCENDING), ("active", ASCENDING), *_NEAREST], name="by_city"),
        IndexModel([("active", ASCENDING), ("createdAt", DESCENDING)], name="admin_list"),
    ],
    ON_CALL: [IndexModel([("onCall", ASCENDING), ("since", ASCENDING)], name="on_call")],
    CALLBACKS: [IndexModel([("status", ASCENDING), ("createdAt", ASCENDING)], name="open")],
}
_SAY = {"name": 1, "phone": 1, "address": 1, "kind": 1}


# ---------------------------------------------------------------- hospitals


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


# ---------------------------------------------------------------- doctors on call


def set_on_call(doctor_id: ObjectId, on_call: bool, phone: str | None, now: datetime) -> dict[str, Any]:
    """The doctor's switch, one upsert of their own document."""
    changes: dict[str, Any] = {"onCall": on_call, "since": now}
    if phone:
        changes["phone"] = phone
    found: dict[str, Any] | None = get_db()[ON_CALL].find_one_and_update(
        {"_id": doctor_id}, {"$set": changes}, upsert=True, return_document=ReturnDocument.AFTER)
    return found or {"_id": doctor_id, **changes}


def get_on_call(doctor_id: ObjectId) -> dict[str, Any] | None:
    found: dict[str, Any] | None = get_db()[ON_CALL].find_one({"_id": doctor_id})
    return found


def on_call(limit: int) -> list[dict[str, Any]]:
    """Doctors on call, longest on call first (they are dialled in this order)."""
    return list(get_db()[ON_CALL].find({"onCall": True}).sort([("since", ASCENDING), ("_id", ASCENDING)])
                .limit(limit))


# ---------------------------------------------------------------- call-back requests


def insert_callback(doc: dict[str, Any]) -> bool:
    """False when this number already asked in this window (the `_id` refuses a second)."""
    return insert_unless_duplicate(get_db()[CALLBACKS], doc)
