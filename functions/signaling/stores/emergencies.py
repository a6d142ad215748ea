"""The `emergencies` collection: emergency sessions `{_id, patientId, patientName, note,
location, source, roomId, status, doctorId, doctorName, createdAt, deadline, acceptedAt,
closedAt}`. A session is `pending` until the first doctor's accept makes it `assigned`, or its
deadline passes and it becomes `unanswered`; each move is one conditional write on the status.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument

from functions.core.db import get_db

EMERGENCIES = "emergencies"
# A session's statuses: `pending` until the first accept (`assigned`) or its deadline (`unanswered`).
PENDING, ASSIGNED, UNANSWERED = "pending", "assigned", "unanswered"

INDEXES = {
    EMERGENCIES: [
        IndexModel([("roomId", ASCENDING)], unique=True, name="uniq_room"),
        IndexModel([("status", ASCENDING), ("deadline", ASCENDING)], name="status_deadline"),
        IndexModel([("patientId", ASCENDING), ("createdAt", DESCENDING)], name="patient_created"),
    ],
}


def insert_emergency(doc: dict[str, Any]) -> None:
    get_db()[EMERGENCIES].insert_one(doc)


def claim_emergency(session_id: ObjectId, doctor_id: ObjectId, doctor_name: str | None,
                    now: datetime) -> dict[str, Any] | None:
    """First accept wins: the session moves from `pending` to `assigned` in one conditional
    write, so of many doctors accepting at once exactly one gets the document back."""
    return get_db()[EMERGENCIES].find_one_and_update(
        {"_id": session_id, "status": PENDING, "deadline": {"$gt": now}},
        {"$set": {"status": ASSIGNED, "doctorId": doctor_id, "doctorName": doctor_name, "acceptedAt": now}},
        return_document=ReturnDocument.AFTER,
    )


def expire_emergency(session_id: ObjectId, now: datetime) -> dict[str, Any] | None:
    """A pending session past its deadline becomes `unanswered` (once: the status decides)."""
    return get_db()[EMERGENCIES].find_one_and_update(
        {"_id": session_id, "status": PENDING, "deadline": {"$lte": now}},
        {"$set": {"status": UNANSWERED, "closedAt": now}},
        return_document=ReturnDocument.AFTER,
    )


def get_emergency(session_id: ObjectId) -> dict[str, Any] | None:
    return get_db()[EMERGENCIES].find_one({"_id": session_id})


def find_emergency_by_room(room_id: str) -> dict[str, Any] | None:
    return get_db()[EMERGENCIES].find_one({"roomId": room_id})


def due_emergencies(now: datetime, limit: int = 100) -> list[ObjectId]:
    """Pending sessions whose deadline has passed (index `status_deadline`)."""
    return [doc["_id"] for doc in get_db()[EMERGENCIES].find({"status": PENDING, "deadline": {"$lte": now}},
                                                          {"_id": 1}).limit(limit)]


def shares_emergency(patient_id: ObjectId, doctor_id: ObjectId) -> bool:
    """The doctor was assigned an emergency session of this patient."""
    return get_db()[EMERGENCIES].find_one({"patientId": patient_id, "doctorId": doctor_id}, {"_id": 1}) is not None


def delete_of_patient(patient_id: ObjectId) -> int:
    """Every emergency the patient raised (the erase of their account; index `patient_created`)."""
    return int(get_db()[EMERGENCIES].delete_many({"patientId": patient_id}).deleted_count)
