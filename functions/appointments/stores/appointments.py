"""The `appointments` collection: every command sent to it, and its indexes.

The first version's unique `slotKey` (doctor|start) and `patientSlotKey` stay as a second line
of defence behind the claims (`appointments.claims`); a cancelled appointment rewrites both to
`released|<its id>`. Doctor availability and time off live on the doctor's user document
(`availability`, `timeOff`, written through `core.users`), so slots cost two reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument

from functions.appointments.status import MAX_APPOINTMENT_MINUTES, OFFERED, PENDING_PAYMENT
from functions.core.db import get_db, insert_unless_duplicate, unless_duplicate
from functions.core.paging import find_page, page_total

if TYPE_CHECKING:
    from pymongo.database import Database

APPOINTMENTS = "appointments"

INDEXES = {
    APPOINTMENTS: [
        IndexModel([("slotKey", ASCENDING)], unique=True, name="uniq_doctor_slot"),
        IndexModel([("patientSlotKey", ASCENDING)], unique=True, name="uniq_patient_slot"),
        IndexModel([("roomId", ASCENDING)], unique=True, name="uniq_room"),
        # (party, start, _id): a party's list is read in this order from the index, a page at a
        # time, on MongoDB and on the patched embedded server ("index-order"), however long the history
        IndexModel([("doctor", ASCENDING), ("start", ASCENDING), ("_id", ASCENDING)], name="doctor_start_id"),
        IndexModel([("patient", ASCENDING), ("start", ASCENDING), ("_id", ASCENDING)], name="patient_start_id"),
        # the list's total (party and `status: {$in: ...}`), counted from index keys alone: a
        # COUNT_SCAN on MongoDB, an index-only scan of the companion on the embedded server
        IndexModel([("doctor", ASCENDING), ("status", ASCENDING)], name="doctor_status"),
        IndexModel([("patient", ASCENDING), ("status", ASCENDING)], name="patient_status"),
        IndexModel([("status", ASCENDING), ("start", ASCENDING)], name="status_start"),
        IndexModel([("day", ASCENDING), ("start", ASCENDING)], name="day_start"),  # the reminder sweep
    ],
}

_BUSY_PROJECTION = {"_id": 0, "start": 1, "end": 1}
_LIST_PROJECTION = {"aiSuggestions": 0, "statusHistory": 0, "parties.patient.contact": 0,
                    "parties.doctor.contact": 0, "claims": 0}
_ROOM_PROJECTION = {"patient": 1, "doctor": 1, "status": 1, "start": 1, "end": 1, "roomId": 1, "parties": 1}


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


# ---------------------------------------------------------------- writes


def insert_appointment(doc: dict[str, Any]) -> str | None:
    """Insert; on a unique-key refusal say which ("slot" or "patient"), else None."""
    if insert_unless_duplicate(get_db()[APPOINTMENTS], doc):
        return None
    return _which_clash(doc["slotKey"], doc["patientSlotKey"])


def delete_unanswered(appointment_id: ObjectId) -> None:
    """Compensation of a booking whose request failed after its insert (the patient was never
    answered with it): remove it by the id the booking chose; nothing if it was never stored."""
    get_db()[APPOINTMENTS].delete_one({"_id": appointment_id})


def apply_transition(query: dict[str, Any], changes: dict[str, Any], entry: dict[str, Any]) -> dict[str, Any] | None:
    """One conditional update that sets `changes` and appends `entry` to the status history:
    the appointment after, or None when `query` matched nothing."""
    return get_db()[APPOINTMENTS].find_one_and_update(
        query, {"$set": changes, "$push": {"statusHistory": entry}}, return_document=ReturnDocument.AFTER)


def move(query: dict[str, Any], changes: dict[str, Any], entry: dict[str, Any]) -> dict[str, Any] | None:
    """Reschedule: the new slot keys replace the old ones in one single-document write."""
    moved = None
    with unless_duplicate() as clashed:
        moved = apply_transition(query, changes, entry)
    if clashed:
        raise SlotClash(_which_clash(changes["slotKey"], changes["patientSlotKey"], query["_id"]))
    return moved


def set_payment(appointment_id: ObjectId, fields: dict[str, Any]) -> dict[str, Any] | None:
    """Record the payment's outcome (`payment.*` fields) whatever the status; the appointment
    after, or None if it does not exist."""
    found: dict[str, Any] | None = get_db()[APPOINTMENTS].find_one_and_update(
        {"_id": appointment_id}, {"$set": fields}, return_document=ReturnDocument.AFTER)
    return found


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


# ---------------------------------------------------------------- reads


def get(appointment_id: ObjectId) -> dict[str, Any] | None:
    return get_db()[APPOINTMENTS].find_one({"_id": appointment_id})


def find_by_room(room_id: str) -> dict[str, Any] | None:
    """The appointment whose video/chat room is `room_id` (unique index `uniq_room`): its
    participants, status and times only, for the signaling domain's membership checks."""
    return get_db()[APPOINTMENTS].find_one({"roomId": room_id}, _ROOM_PROJECTION)


def next_of_pair(doctor_id: ObjectId, patient_id: ObjectId, status: str, now: datetime) -> dict[str, Any] | None:
    """The pair's appointment in `status` that is in progress or comes next (not over at `now`),
    with what `find_by_room` returns: the call notice of a page that names no room."""
    return get_db()[APPOINTMENTS].find_one(
        {"doctor": doctor_id, "patient": patient_id, "status": status, "end": {"$gt": now}},
        _ROOM_PROJECTION, sort=[("start", ASCENDING)])


def busy_intervals(doctor_id: ObjectId, days: Sequence[str], start: datetime, end: datetime,
                   statuses: Sequence[str]) -> list[tuple[datetime, datetime]]:
    """Start/end of the doctor's appointments starting in [start, end) that hold their slot;
    `days` are the doctor-local days that window touches. The equalities on `doctor` and `day`
    are what the embedded server reads by (GIN indexes of `doctor_start_id` and `day_start`); the
    range on `start` is applied after, to a few days' rows instead of all the doctor's."""
    cursor = get_db()[APPOINTMENTS].find(
        {"doctor": doctor_id, "day": {"$in": list(days)}, "start": {"$gte": start, "$lt": end},
         "status": {"$in": list(statuses)}},
        _BUSY_PROJECTION)
    return [(doc["start"], doc["end"]) for doc in cursor]


def overlapping(doctor_id: ObjectId, start: datetime, end: datetime,
                statuses: Sequence[str]) -> list[dict[str, Any]]:
    """The doctor's appointments in `statuses` that overlap [start, end): ids and times only."""
    cursor = get_db()[APPOINTMENTS].find(
        {"doctor": doctor_id, "start": {"$lt": end}, "end": {"$gt": start}, "status": {"$in": list(statuses)}},
        {"start": 1, "end": 1, "status": 1, "day": 1, "time": 1}).sort("start", 1)
    return list(cursor)


def list_for(field: str, user_id: ObjectId, statuses: list[str], skip: int, limit: int
             ) -> tuple[list[dict[str, Any]], int]:
    """One page sorted by start, and the total. The count is only asked for when the page does
    not already tell it (a full page, or an empty page past the first)."""
    query: dict[str, Any] = {field: user_id}
    if statuses:
        query["status"] = statuses[0] if len(statuses) == 1 else {"$in": statuses}
    return find_page(get_db()[APPOINTMENTS], query, sort=[("start", ASCENDING), ("_id", ASCENDING)], skip=skip,
                     limit=limit, projection=_LIST_PROJECTION)


def list_now_first(field: str, user_id: ObjectId, statuses: list[str], now: datetime, limit: int
                   ) -> tuple[list[dict[str, Any]], int]:
    """Without paging: up to `limit`, what matters now first: those not yet over, soonest
    first, then past ones, most recent first. Two reads; a count only past `limit`."""
    coll = get_db()[APPOINTMENTS]
    query: dict[str, Any] = {field: user_id}
    if statuses:
        query["status"] = statuses[0] if len(statuses) == 1 else {"$in": statuses}
    # `start` bounds say what `end` says (an appointment lasts at most MAX_APPOINTMENT_MINUTES) in
    # the index's key, so each read walks (party, start, _id) from `now` and stops at the page
    earliest = now - timedelta(minutes=MAX_APPOINTMENT_MINUTES)
    upcoming = list(coll.find({**query, "start": {"$gt": earliest}, "end": {"$gt": now}}, _LIST_PROJECTION)
                    .sort([("start", ASCENDING), ("_id", ASCENDING)]).limit(limit))
    past = list(coll.find({**query, "start": {"$lt": now}, "end": {"$lte": now}}, _LIST_PROJECTION)
                .sort([("start", DESCENDING), ("_id", DESCENDING)]).limit(limit - len(upcoming))
                ) if len(upcoming) < limit else []
    items = upcoming + past
    return items, page_total(items, 0, limit, lambda: coll.count_documents(query))


def treats(doctor_id: Any, patient_id: Any, statuses: Sequence[str]) -> bool:
    """Do the doctor and the patient share an appointment in `statuses` (one indexed read)?"""
    found = get_db()[APPOINTMENTS].find_one(
        {"doctor": doctor_id, "patient": patient_id, "status": {"$in": list(statuses)}}, {"_id": 1})
    return found is not None


def states(ids: Sequence[ObjectId]) -> dict[ObjectId, dict[str, Any]]:
    """Status, start and cancellation of these appointments (one `$in` read, read-only)."""
    found = get_db()[APPOINTMENTS].find({"_id": {"$in": list(ids)}}, {"status": 1, "start": 1, "cancellation": 1})
    return {doc["_id"]: doc for doc in found}


def claim_holders(ids: Sequence[ObjectId]) -> dict[ObjectId, dict[str, Any]]:
    """What the repair sweep needs to know of the appointments claims name (one `$in` read of
    at most a page of ids): parties, times, buffer, status. A missing id was never stored."""
    found = get_db()[APPOINTMENTS].find({"_id": {"$in": list(ids)}}, {"doctor": 1, "patient": 1, "start": 1, "end": 1,
                                                                      "bufferMinutes": 1, "status": 1})
    return {doc["_id"]: doc for doc in found}


def upcoming_active(now: datetime, until: datetime, statuses: Sequence[str]) -> list[dict[str, Any]]:
    """Active appointments starting in (now, until]: one read per doctor-local `day` the window
    can touch (a local day lies within a day of the UTC one). The equality on `day` is what keeps
    this read small on every server: a status matches a quarter of all appointments, a day a
    few hundred at most (17 s instead of milliseconds at 100 000 on the embedded database)."""
    coll = get_db()[APPOINTMENTS]
    first, last = (now - timedelta(days=1)).date(), (until + timedelta(days=1)).date()
    found: list[dict[str, Any]] = []
    for n in range((last - first).days + 1):
        found += coll.find({"day": (first + timedelta(days=n)).isoformat(), "start": {"$gt": now, "$lte": until},
                            "status": {"$in": list(statuses)}},
                           {"start": 1, "reminderOffsets": 1, "remindersSent": 1})
    return found


def expired_holds(now: datetime, limit: int) -> list[dict[str, Any]]:
    """Unpaid holds whose time ran out (an indexed equality on the status)."""
    cursor = get_db()[APPOINTMENTS].find({"status": PENDING_PAYMENT, "holdExpiresAt": {"$lte": now}},
                                         {"_id": 1}).limit(limit)
    return list(cursor)


def expired_offers(now: datetime, limit: int) -> list[dict[str, Any]]:
    """Waitlist offers whose time ran out (an indexed equality on the status)."""
    cursor = get_db()[APPOINTMENTS].find({"status": OFFERED, "offerExpiresAt": {"$lte": now}},
                                         {"_id": 1}).limit(limit)
    return list(cursor)


def not_ended(db: Database[dict[str, Any]], status: str, now: datetime, fields: Iterable[str]) -> list[dict[str, Any]]:
    """The appointments in `status` that have not ended, with `fields` (the migrations' read)."""
    return list(db[APPOINTMENTS].find({"status": status, "end": {"$gt": now}}, dict.fromkeys(fields, 1)))


def delete_of_patient(patient_id: ObjectId) -> int:
    """Every appointment of the patient (the erase of their account; index `patient_start_id`)."""
    return int(get_db()[APPOINTMENTS].delete_many({"patient": patient_id}).deleted_count)


def forget_doctor_snapshot(doctor_id: ObjectId) -> int:
    """The erase of a doctor's account: the copy of their name and contact in each of their
    appointments removed (index `doctor_start_id`); the appointments stay, naming them by id."""
    result = get_db()[APPOINTMENTS].update_many({"doctor": doctor_id}, {"$unset": {"parties.doctor": ""}})
    return int(result.modified_count)
