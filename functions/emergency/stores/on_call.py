"""`on_call`: one document per doctor, keyed by the doctor's id (their on-call switch and the
phone the line rings); the only module issuing commands to it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, IndexModel, ReturnDocument

from functions.core.db import get_db

ON_CALL = "on_call"

INDEXES = {ON_CALL: [IndexModel([("onCall", ASCENDING), ("since", ASCENDING)], name="on_call")]}


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
