"""MongoDB access for the appointments domain, and the indexes it relies on.

Double booking is impossible by construction: every appointment carries two unique keys,
`slotKey` = doctor|start and `patientSlotKey` = patient|start. A cancelled appointment rewrites
both to `released|<its id>` (still unique) so the slot frees up; no partial index is needed
(FerretDB v1.24 has none that can be relied on). Doctor availability and time off live on the
doctor's user document (`availability`, `timeOff`), so slots cost two reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, IndexModel, ReturnDocument
from pymongo.errors import DuplicateKeyError, OperationFailure

from functions.core.db import get_db, is_duplicate_key
from functions.core.security import GUARD_PROJECTION

APPOINTMENTS = "appointments"
USERS = "users"

INDEXES = {
    APPOINTMENTS: [
        IndexModel([("slotKey", ASCENDING)], unique=True, name="uniq_doctor_slot"),
        IndexModel([("patientSlotKey", ASCENDING)], unique=True, name="uniq_patient_slot"),
        IndexModel([("roomId", ASCENDING)], unique=True, name="uniq_room"),
        IndexModel([("doctor", ASCENDING), ("start", ASCENDING)], name="doctor_start"),
        IndexModel([("patient", ASCENDING), ("start", ASCENDING)], name="patient_start"),
        IndexModel([("status", ASCENDING), ("start", ASCENDING)], name="status_start"),
    ]
}

_BUSY_PROJECTION = {"_id": 0, "start": 1, "end": 1}
_LIST_PROJECTION = {"symptoms": 0, "aiSuggestions": 0, "statusHistory": 0, "parties.patient.contact": 0,
                    "parties.doctor.contact": 0}


class SlotClash(Exception):
    """A unique key refused the write: `which` is "slot" (doctor busy) or "patient"."""

    def __init__(self, which: str) -> None:
        super().__init__(which)
        self.which = which


def _which_clash(slot_key: str, patient_slot_key: str, exclude: ObjectId | None = None) -> str:
    coll = get_db()[APPOINTMENTS]
    other: dict[str, Any] = {"_id": {"$ne": exclude}} if exclude else {}
    if coll.find_one({"slotKey": slot_key, **other}, {"_id": 1}) is not None:
        return "slot"
    if coll.find_one({"patientSlotKey": patient_slot_key, **other}, {"_id": 1}) is not None:
        return "patient"
    return "slot"


# ---------------------------------------------------------------- doctors (user documents)


def find_doctor(doctor_id: ObjectId) -> dict[str, Any] | None:
    return get_db()[USERS].find_one({"_id": doctor_id, "role": "doctor"}, GUARD_PROJECTION)


def users_by_id(ids: Sequence[ObjectId]) -> dict[ObjectId, dict[str, Any]]:
    found = get_db()[USERS].find({"_id": {"$in": list(ids)}},
                                 {"name": 1, "contact": 1, "contactType": 1, "timezone": 1})
    return {doc["_id"]: doc for doc in found}


def set_availability(doctor_id: ObjectId, availability: dict[str, Any]) -> None:
    get_db()[USERS].update_one({"_id": doctor_id, "role": "doctor"}, {"$set": {"availability": availability}})


def add_time_off(doctor_id: ObjectId, key: str, entry: dict[str, Any], expired: Iterable[str]) -> None:
    """Time off is a map id -> entry (FerretDB v1.24 cannot `$pull` by condition); ended entries
    are dropped in the same write."""
    update: dict[str, Any] = {"$set": {f"timeOff.{key}": entry}}
    stale = {f"timeOff.{old}": "" for old in expired}
    if stale:
        update["$unset"] = stale
    get_db()[USERS].update_one({"_id": doctor_id, "role": "doctor"}, update)


def remove_time_off(doctor_id: ObjectId, key: str) -> bool:
    result = get_db()[USERS].update_one({"_id": doctor_id, f"timeOff.{key}": {"$exists": True}},
                                        {"$unset": {f"timeOff.{key}": ""}})
    return result.modified_count == 1


# ---------------------------------------------------------------- appointments


def busy_intervals(doctor_id: ObjectId, start: datetime, end: datetime,
                   statuses: Sequence[str]) -> list[tuple[datetime, datetime]]:
    """Start/end of the doctor's appointments starting in [start, end) that hold their slot."""
    cursor = get_db()[APPOINTMENTS].find(
        {"doctor": doctor_id, "start": {"$gte": start, "$lt": end}, "status": {"$in": list(statuses)}},
        _BUSY_PROJECTION)
    return [(doc["start"], doc["end"]) for doc in cursor]


def overlapping(doctor_id: ObjectId, start: datetime, end: datetime,
                statuses: Sequence[str]) -> list[dict[str, Any]]:
    """The doctor's appointments in `statuses` that overlap [start, end): ids and times only."""
    cursor = get_db()[APPOINTMENTS].find(
        {"doctor": doctor_id, "start": {"$lt": end}, "end": {"$gt": start}, "status": {"$in": list(statuses)}},
        {"start": 1, "end": 1, "status": 1, "day": 1, "time": 1}).sort("start", 1)
    return list(cursor)


def insert_appointment(doc: dict[str, Any]) -> str | None:
    """Insert; on a unique-key refusal say which ("slot" or "patient"), else None."""
    try:
        get_db()[APPOINTMENTS].insert_one(doc)
    except (DuplicateKeyError, OperationFailure) as exc:
        if not is_duplicate_key(exc):
            raise
        return _which_clash(doc["slotKey"], doc["patientSlotKey"])
    return None


def get(appointment_id: ObjectId) -> dict[str, Any] | None:
    return get_db()[APPOINTMENTS].find_one({"_id": appointment_id})


def find_by_room(room_id: str) -> dict[str, Any] | None:
    """The appointment whose video/chat room is `room_id` (unique index `uniq_room`): its
    participants, status and times only, for the signaling domain's membership checks."""
    return get_db()[APPOINTMENTS].find_one(
        {"roomId": room_id},
        {"patient": 1, "doctor": 1, "status": 1, "start": 1, "end": 1, "roomId": 1, "parties": 1})


def apply_transition(query: dict[str, Any], changes: dict[str, Any], entry: dict[str, Any]) -> dict[str, Any] | None:
    return get_db()[APPOINTMENTS].find_one_and_update(
        query, {"$set": changes, "$push": {"statusHistory": entry}}, return_document=ReturnDocument.AFTER)


def move(query: dict[str, Any], changes: dict[str, Any], entry: dict[str, Any]) -> dict[str, Any] | None:
    """Reschedule: the new slot keys replace the old ones in one single-document write."""
    try:
        return apply_transition(query, changes, entry)
    except (DuplicateKeyError, OperationFailure) as exc:
        if not is_duplicate_key(exc):
            raise
        raise SlotClash(_which_clash(changes["slotKey"], changes["patientSlotKey"], query["_id"])) from None


def list_for(field: str, user_id: ObjectId, statuses: list[str], skip: int, limit: int
             ) -> tuple[list[dict[str, Any]], int]:
    """One page sorted by start, and the total. The count is only asked for when the page does
    not already tell it (a full page, or an empty page past the first)."""
    coll = get_db()[APPOINTMENTS]
    query: dict[str, Any] = {field: user_id}
    if statuses:
        query["status"] = statuses[0] if len(statuses) == 1 else {"$in": statuses}
    items = list(coll.find(query, _LIST_PROJECTION).sort([("start", ASCENDING), ("_id", ASCENDING)])
                 .skip(skip).limit(limit))
    if 0 < len(items) < limit or (not items and skip == 0):
        return items, skip + len(items)
    return items, coll.count_documents(query)


# ---------------------------------------------------------------- reminders


def claim_reminder(appointment_id: ObjectId, offset: int, now: datetime, statuses: Sequence[str],
                   tolerance: timedelta, superseded: Iterable[int] = ()) -> dict[str, Any] | None:
    """Mark reminder `offset` as sent, only if it was planned, is due (start - offset <= now,
    start still ahead), the appointment holds its slot, and it was not sent for this start.
    Longer offsets not sent yet are marked too (a late 24 h reminder after the 15 min one would
    only confuse). Rescheduling clears `remindersSent` in the same write that moves the start."""
    marks = {f"remindersSent.{o}": now for o in {offset, *superseded}}
    return get_db()[APPOINTMENTS].find_one_and_update(
        {
            "_id": appointment_id,
            "status": {"$in": list(statuses)},
            "reminderOffsets": offset,
            "start": {"$gt": now, "$lte": now + timedelta(minutes=offset) + tolerance},
            f"remindersSent.{offset}": {"$exists": False},
        },
        {"$set": marks},
        return_document=ReturnDocument.AFTER,
    )


def upcoming_active(now: datetime, until: datetime, statuses: Sequence[str]) -> list[dict[str, Any]]:
    cursor = get_db()[APPOINTMENTS].find(
        {"status": {"$in": list(statuses)}, "start": {"$gt": now, "$lte": until}},
        {"start": 1, "reminderOffsets": 1, "remindersSent": 1},
    )
    return list(cursor)
