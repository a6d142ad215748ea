"""MongoDB access for the appointments domain, and the indexes it relies on.

Overlapping bookings are impossible by construction: an active appointment holds a claim
document `doctor|cell` (its time plus the doctor's buffer) and `patient|cell` for every 5-minute
cell of absolute time it covers (`grid.claim_ids`). Claims are keyed by `_id`, so the database
refuses a second holder of any cell whatever the slot lengths, grid changes or clock changes;
they are inserted in one ordered `insert_many` and released in one `delete_many` (by the
appointment id, an indexed equality). The first version's unique `slotKey` (doctor|start) and
`patientSlotKey` stay as a second line of defence; a cancelled appointment rewrites both to
`released|<its id>`. Doctor availability and time off live on the doctor's user document
(`availability`, `timeOff`, written through `core.users`), so slots cost two reads.

The abuse limits (MAX_ACTIVE_PER_DOCTOR, MAX_ACTIVE_PER_PATIENT) are seats in the same
collection: `limit|<patient>|<doctor>|<k>` (k < the per-doctor limit) and `limit|<patient>|<k>`
(k < the overall limit), each holding one appointment (`appt`) until its end (`until`), kind
"seat". A booking takes one of each, by `_id`, so no burst can hold more seats than exist; a
cancellation's `delete_many` by appointment frees them with its cells, a completion frees them
by `release_seats`, and a seat whose appointment has ended is taken over by one conditional
upsert (`take_ended_seat`), so nothing needs sweeping.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument
from pymongo.errors import BulkWriteError

from functions.core import clock
from functions.core.db import get_db, insert_unless_duplicate, unless_duplicate
from functions.core.observability import logger
from functions.core.paging import find_page, page_total

if TYPE_CHECKING:
    from pymongo.database import Database

APPOINTMENTS = "appointments"
CLAIMS = "appointment_claims"

INDEXES = {
    APPOINTMENTS: [
        IndexModel([("slotKey", ASCENDING)], unique=True, name="uniq_doctor_slot"),
        IndexModel([("patientSlotKey", ASCENDING)], unique=True, name="uniq_patient_slot"),
        IndexModel([("roomId", ASCENDING)], unique=True, name="uniq_room"),
        IndexModel([("doctor", ASCENDING), ("start", ASCENDING)], name="doctor_start"),
        IndexModel([("patient", ASCENDING), ("start", ASCENDING)], name="patient_start"),
        IndexModel([("status", ASCENDING), ("start", ASCENDING)], name="status_start"),
        IndexModel([("day", ASCENDING), ("start", ASCENDING)], name="day_start"),  # the reminder sweep
    ],
    CLAIMS: [
        IndexModel([("appt", ASCENDING)], name="by_appointment"),
        IndexModel([("day", ASCENDING)], name="by_day"),  # the sweeper drops the claims of past days
    ],
}

_BUSY_PROJECTION = {"_id": 0, "start": 1, "end": 1}
_LIST_PROJECTION = {"aiSuggestions": 0, "statusHistory": 0, "parties.patient.contact": 0,
                    "parties.doctor.contact": 0, "claims": 0}


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
    if insert_unless_duplicate(get_db()[APPOINTMENTS], doc):
        return None
    return _which_clash(doc["slotKey"], doc["patientSlotKey"])


def get(appointment_id: ObjectId) -> dict[str, Any] | None:
    return get_db()[APPOINTMENTS].find_one({"_id": appointment_id})


def find_by_room(room_id: str) -> dict[str, Any] | None:
    """The appointment whose video/chat room is `room_id` (unique index `uniq_room`): its
    participants, status and times only, for the signaling domain's membership checks."""
    return get_db()[APPOINTMENTS].find_one(
        {"roomId": room_id},
        {"patient": 1, "doctor": 1, "status": 1, "start": 1, "end": 1, "roomId": 1, "parties": 1})


def next_of_pair(doctor_id: ObjectId, patient_id: ObjectId, status: str, now: datetime) -> dict[str, Any] | None:
    """The pair's appointment in `status` that is in progress or comes next (not over at `now`),
    with what `find_by_room` returns: the call notice of a page that names no room."""
    return get_db()[APPOINTMENTS].find_one(
        {"doctor": doctor_id, "patient": patient_id, "status": status, "end": {"$gt": now}},
        {"patient": 1, "doctor": 1, "status": 1, "start": 1, "end": 1, "roomId": 1, "parties": 1},
        sort=[("start", ASCENDING)])


def apply_transition(query: dict[str, Any], changes: dict[str, Any], entry: dict[str, Any]) -> dict[str, Any] | None:
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
    upcoming = list(coll.find({**query, "end": {"$gt": now}}, _LIST_PROJECTION)
                    .sort([("start", ASCENDING), ("_id", ASCENDING)]).limit(limit))
    past = list(coll.find({**query, "end": {"$lte": now}}, _LIST_PROJECTION)
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


# ---------------------------------------------------------------- claims


class ClaimRefused(Exception):
    """A cell is held already: `index` is the position of the refused claim in the request."""

    def __init__(self, index: int) -> None:
        super().__init__(index)
        self.index = index


def claim_doc(claim_id: str, appointment_id: ObjectId, hold: str) -> dict[str, Any]:
    """A claim: its cell's UTC day (for the sweeper) and who holds it; `hold` names the write
    that made it, so a failed write removes exactly its own claims."""
    cell = claim_id.rsplit("|", 1)[1]
    return {"_id": claim_id, "appt": appointment_id, "hold": hold, "day": cell[:10]}


def insert_claims(claim_ids: Sequence[str], appointment_id: ObjectId, hold: str,
                  seats: Sequence[dict[str, Any]] = ()) -> None:
    """All the claims, then the `seats` documents if any, in one ordered `insert_many` round
    trip; the first document held by someone else stops it (ClaimRefused with its index, the
    seats counted after the claims). The caller then calls `release_hold`: documents before the
    refused one were inserted."""
    if not claim_ids and not seats:
        return
    try:
        get_db()[CLAIMS].insert_many([*(claim_doc(c, appointment_id, hold) for c in claim_ids), *seats],
                                     ordered=True)
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors") or []
        duplicate = [e for e in errors if e.get("code") == 11000 or "duplicate" in str(e.get("errmsg", "")).lower()]
        if not duplicate:
            raise
        raise ClaimRefused(int(duplicate[0].get("index", 0))) from None


def release_hold(appointment_id: ObjectId, hold: str) -> int:
    """Compensation: remove the claims one write made (one round trip)."""
    return int(get_db()[CLAIMS].delete_many({"appt": appointment_id, "hold": hold}).deleted_count)


def release_claims(appointment_id: ObjectId, claim_ids: Sequence[str] | None = None) -> int:
    """Free the appointment's cells (all of them, or those listed) in one round trip. Filtered by
    the appointment, so a cell someone else claimed since is never touched."""
    query: dict[str, Any] = {"appt": appointment_id}
    if claim_ids is not None:
        if not claim_ids:
            return 0
        query["_id"] = {"$in": list(claim_ids)}
    return int(get_db()[CLAIMS].delete_many(query).deleted_count)


def seat_ids(patient_id: ObjectId, doctor_id: ObjectId, per_doctor: int, overall: int) -> tuple[list[str], list[str]]:
    """The patient's seats with this doctor, and overall (see the module's docstring)."""
    return ([f"limit|{patient_id}|{doctor_id}|{k}" for k in range(per_doctor)],
            [f"limit|{patient_id}|{k}" for k in range(overall)])


def seat_doc(seat_id: str, appointment_id: ObjectId, hold: str, until: datetime) -> dict[str, Any]:
    """A seat held by the appointment until its end; `day` (of `until`) lets the claims purge
    drop it once long ended, `hold` lets a failed booking remove it with its cells."""
    return {"_id": seat_id, "appt": appointment_id, "hold": hold, "kind": "seat", "until": until,
            "day": f"{until.astimezone(UTC):%Y-%m-%d}"}


def held_seats(ids: Sequence[str]) -> dict[str, datetime]:
    """The seats among `ids` that exist, with the end of the appointment holding each (one
    `_id $in` read of at most the two limits' worth of ids). A missing seat is free; one
    whose `until` has passed is free to take over."""
    found = get_db()[CLAIMS].find({"_id": {"$in": list(ids)}}, {"until": 1})
    return {doc["_id"]: doc["until"].replace(tzinfo=UTC) if doc["until"].tzinfo is None else doc["until"]
            for doc in found}


def take_ended_seat(seat_id: str, appointment_id: ObjectId, hold: str, until: datetime, now: datetime,
                    db: Database[dict[str, Any]] | None = None) -> bool:
    """Take over a seat whose appointment has ended (or that was freed since it was read): one
    conditional upsert on `_id`. False when someone holds it now: the filter does not match and
    the upsert's insert collides on `_id`."""
    doc = seat_doc(seat_id, appointment_id, hold, until)
    fields = {k: v for k, v in doc.items() if k != "_id"}
    with unless_duplicate() as held:
        (db if db is not None else get_db())[CLAIMS].update_one(
            {"_id": seat_id, "until": {"$lte": now}}, {"$set": fields}, upsert=True)
    return not held


def release_seats(appointment_id: ObjectId) -> int:
    """Free the appointment's limit seats, not its cells (completed or no-show): one round trip."""
    return int(get_db()[CLAIMS].delete_many({"appt": appointment_id, "kind": "seat"}).deleted_count)


def move_seats(appointment_id: ObjectId, until: datetime) -> int:
    """A rescheduled appointment holds its seats until its new end (one round trip)."""
    result = get_db()[CLAIMS].update_many({"appt": appointment_id, "kind": "seat"},
                                          {"$set": {"until": until, "day": f"{until.astimezone(UTC):%Y-%m-%d}"}})
    return int(result.matched_count)


def purge_claims_of_day(day: str) -> int:
    """Claims of a past UTC day can never clash with a booking again (no booking starts in the past)."""
    return int(get_db()[CLAIMS].delete_many({"day": day}).deleted_count)


def claim_existing(db: Database[dict[str, Any]]) -> int:
    """Migration run by ensure-indexes: every active appointment that has not ended holds its
    claims (appointments booked before claims existed). Idempotent: claims already there are
    kept; a cell held by another appointment (an overlap made before this version) is logged."""
    from functions.appointments.grid import claim_ids
    from functions.appointments.status import ACTIVE

    now = clock.now()
    made = 0
    active = [appt for status in ACTIVE
              for appt in db[APPOINTMENTS].find({"status": status, "end": {"$gt": now}},
                                                {"doctor": 1, "patient": 1, "start": 1, "end": 1, "bufferMinutes": 1})]
    for appt in active:
        start, end = appt["start"], appt["end"]
        if start.tzinfo is None:
            start, end = start.replace(tzinfo=UTC), end.replace(tzinfo=UTC)
        buffer = timedelta(minutes=int(appt.get("bufferMinutes") or 0))
        wanted = claim_ids(appt["doctor"], start, end + buffer) + claim_ids(appt["patient"], start, end)
        held = {c["_id"] for c in db[CLAIMS].find({"appt": appt["_id"]}, {"_id": 1})}
        docs = [claim_doc(c, appt["_id"], str(appt["_id"])) for c in wanted if c not in held]
        if not docs:
            continue
        try:
            made += len(db[CLAIMS].insert_many(docs, ordered=False).inserted_ids)
        except BulkWriteError as exc:
            made += int(exc.details.get("nInserted", 0))
            refused = len(exc.details.get("writeErrors") or [])
            logger.warning("appointment overlaps another made before claims existed; the other keeps those cells",
                           extra={"appointmentId": str(appt["_id"]), "cells": refused})
    return made


def seat_existing(db: Database[dict[str, Any]]) -> int:
    """Migration run by ensure-indexes: every active appointment that has not ended holds a seat
    with its doctor and an overall one (appointments booked before seats existed), soonest
    first. Idempotent: an appointment holding seats is skipped. A patient already past a limit
    keeps those appointments; the ones beyond it hold no seat of that kind (logged), and the
    patient cannot book more until enough of them are over."""
    from functions.core.config import get_settings

    settings, now = get_settings(), clock.now()
    active = sorted((appt for status in _active_statuses()
                     for appt in db[APPOINTMENTS].find({"status": status, "end": {"$gt": now}},
                                                       {"doctor": 1, "patient": 1, "start": 1, "end": 1})),
                    key=lambda a: (a["start"].replace(tzinfo=UTC) if a["start"].tzinfo is None else a["start"]))
    made = 0
    for appt in active:
        if db[CLAIMS].find_one({"appt": appt["_id"], "kind": "seat"}, {"_id": 1}) is not None:
            continue
        end = appt["end"].replace(tzinfo=UTC) if appt["end"].tzinfo is None else appt["end"]
        hold = str(appt["_id"])
        for ids in seat_ids(appt["patient"], appt["doctor"], settings.max_active_per_doctor,
                            settings.max_active_per_patient):
            held = {d["_id"] for d in db[CLAIMS].find({"_id": {"$in": ids}, "until": {"$gt": now}}, {"_id": 1})}
            taken = any(take_ended_seat(seat, appt["_id"], hold, end, now, db) for seat in ids if seat not in held)
            made += taken
            if not taken:
                logger.warning("appointment booked beyond a limit before seats existed; it holds no seat",
                               extra={"appointmentId": hold})
    return made


def _active_statuses() -> tuple[str, ...]:
    from functions.appointments.status import ACTIVE

    return ACTIVE


MIGRATIONS = (claim_existing, seat_existing)


# ---------------------------------------------------------------- payments (see `payment`)


def set_payment(appointment_id: ObjectId, fields: dict[str, Any]) -> dict[str, Any] | None:
    """Record the payment's outcome (`payment.*` fields) whatever the status; the appointment
    after, or None if it does not exist."""
    found: dict[str, Any] | None = get_db()[APPOINTMENTS].find_one_and_update(
        {"_id": appointment_id}, {"$set": fields}, return_document=ReturnDocument.AFTER)
    return found


def expired_holds(now: datetime, limit: int) -> list[dict[str, Any]]:
    """Unpaid holds whose time ran out (an indexed equality on the status)."""
    cursor = get_db()[APPOINTMENTS].find({"status": "pending_payment", "holdExpiresAt": {"$lte": now}},
                                         {"_id": 1}).limit(limit)
    return list(cursor)
