"""`on_call`: one document per doctor, keyed by the doctor's id (their on-call switch, the
verified phone the line rings, and a number waiting for its code); the only module issuing
commands to it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, IndexModel, ReturnDocument

from functions.core.db import get_db

ON_CALL = "on_call"

INDEXES = {ON_CALL: [IndexModel([("onCall", ASCENDING), ("since", ASCENDING)], name="on_call")]}


def update_on_call(doctor_id: ObjectId, changes: dict[str, Any]) -> dict[str, Any]:
    """`$set` the changes on the doctor's own document (created by the first): the document after."""
    found: dict[str, Any] | None = get_db()[ON_CALL].find_one_and_update(
        {"_id": doctor_id}, {"$set": changes}, upsert=True, return_document=ReturnDocument.AFTER)
    return found or {"_id": doctor_id, **changes}


def get_on_call(doctor_id: ObjectId) -> dict[str, Any] | None:
    found: dict[str, Any] | None = get_db()[ON_CALL].find_one({"_id": doctor_id})
    return found


def claim_code_guess(doctor_id: ObjectId, now: datetime, max_attempts: int) -> dict[str, Any] | None:
    """Count one guess against the live code of the number waiting; the document after (its code
    to compare), or None when there is no live code or its guesses are used up."""
    found: dict[str, Any] | None = get_db()[ON_CALL].find_one_and_update(
        {"_id": doctor_id, "pending.expiresAt": {"$gt": now}, "pending.attempts": {"$lt": max_attempts}},
        {"$inc": {"pending.attempts": 1}}, return_document=ReturnDocument.AFTER)
    return found


def confirm_phone(doctor_id: ObjectId, code_hash: str, changes: dict[str, Any]) -> bool:
    """The waiting number becomes the verified one, only while that code is still the live one
    (one conditional write: a code works once)."""
    return bool(get_db()[ON_CALL].update_one({"_id": doctor_id, "pending.codeHash": code_hash},
                                             {"$set": changes, "$unset": {"pending": ""}}).modified_count == 1)


def on_call(limit: int) -> list[dict[str, Any]]:
    """Doctors on call, longest on call first (they are dialled in this order)."""
    return list(get_db()[ON_CALL].find({"onCall": True}).sort([("since", ASCENDING), ("_id", ASCENDING)])
                .limit(limit))


def delete_of_doctor(doctor_id: ObjectId) -> int:
    """The doctor's on-call document gone (the erase of their account)."""
    return int(get_db()[ON_CALL].delete_one({"_id": doctor_id}).deleted_count)
