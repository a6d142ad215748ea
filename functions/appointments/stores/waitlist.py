"""The `waitlist` collection: every command sent to it, and its indexes.

An entry is one patient waiting for a freed slot of one doctor on a day or range of days
(`days`, each `YYYY-MM-DD`, doctor-local) within a window (`from`/`to`, doctor-local `HH:MM`).
A live entry (`waiting` or `offered`) holds a seat, `seat: "<patient>|<k>"` for k below
WAITLIST_MAX_ENTRIES, under a unique index: no burst of joins can hold more entries than there
are seats. An entry that is done gives its seat back by rewriting it to `released|<its id>`
(a leave deletes the entry). The offer an entry holds is an appointment (`offer.appointment`).
`endsAt` is when the window of its last day closes: the sweeper ends the entry then.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from bson import ObjectId
from pymongo import ASCENDING, IndexModel, ReturnDocument

from functions.appointments.status import ACCEPTED, DECLINED, ENDED, LAPSED, OFFERED, WAITING
from functions.core.db import get_db, insert_unless_duplicate

if TYPE_CHECKING:
    from pymongo.database import Database

WAITLIST = "waitlist"

INDEXES = {
    WAITLIST: [
        IndexModel([("seat", ASCENDING)], unique=True, name="uniq_seat"),
        IndexModel([("patient", ASCENDING), ("createdAt", ASCENDING)], name="patient_created"),
        IndexModel([("doctor", ASCENDING), ("createdAt", ASCENDING)], name="doctor_created"),  # who is first in line
        IndexModel([("status", ASCENDING), ("offer.expiresAt", ASCENDING)], name="status_offer_expiry"),  # lapses
        IndexModel([("status", ASCENDING), ("endsAt", ASCENDING)], name="status_ends"),  # entries whose days are over
    ],
}

LEAVABLE = (WAITING, ACCEPTED, DECLINED, LAPSED, ENDED)  # an entry holding an offer is declined first
_LIST_PROJECTION = {"doctor": 1, "days": 1, "from": 1, "to": 1, "status": 1, "offer": 1, "createdAt": 1}
MAX_LISTED = 100


def released_seat(entry_id: ObjectId) -> str:
    return f"released|{entry_id}"


def seats_held(patient_id: ObjectId) -> set[str]:
    """The seats the patient's entries hold (live or not: a done entry's seat is `released|...`)."""
    return {d["seat"] for d in get_db()[WAITLIST].find({"patient": patient_id}, {"seat": 1})}


def insert(doc: dict[str, Any]) -> bool:
    """Insert the entry; False when its seat is held already (a concurrent join took it)."""
    return insert_unless_duplicate(get_db()[WAITLIST], doc)


def list_for(patient_id: ObjectId) -> list[dict[str, Any]]:
    """The patient's entries, oldest first (at most a page)."""
    return list(get_db()[WAITLIST].find({"patient": patient_id}, _LIST_PROJECTION)
                .sort([("createdAt", ASCENDING), ("_id", ASCENDING)]).limit(MAX_LISTED))


def get(entry_id: ObjectId) -> dict[str, Any] | None:
    return get_db()[WAITLIST].find_one({"_id": entry_id})


def delete_waiting(entry_id: ObjectId, patient_id: ObjectId) -> bool:
    """Leave: remove the patient's entry unless it holds an offer (one round trip)."""
    gone = get_db()[WAITLIST].delete_one({"_id": entry_id, "patient": patient_id, "status": {"$in": list(LEAVABLE)}})
    return bool(gone.deleted_count)


def delete_unanswered(entry_id: ObjectId) -> None:
    """Compensation of a join whose request failed after its insert."""
    get_db()[WAITLIST].delete_one({"_id": entry_id})


def waiting_for(doctor_id: ObjectId, day: str, limit: int) -> list[dict[str, Any]]:
    """The entries waiting for the doctor on `day`, first in line first (the window is judged
    by the caller)."""
    return list(get_db()[WAITLIST].find({"doctor": doctor_id, "days": day, "status": WAITING},
                                        {"patient": 1, "from": 1, "to": 1, "createdAt": 1})
                .sort([("createdAt", ASCENDING), ("_id", ASCENDING)]).limit(limit))


def waiting_for_doctor(doctor_id: ObjectId, limit: int) -> list[dict[str, Any]]:
    """The entries waiting for the doctor (any day), first in line first: slots a doctor opened."""
    return list(get_db()[WAITLIST].find({"doctor": doctor_id, "status": WAITING},
                                        {"patient": 1, "days": 1, "from": 1, "to": 1, "createdAt": 1})
                .sort([("createdAt", ASCENDING), ("_id", ASCENDING)]).limit(limit))


def take_for_offer(entry_id: ObjectId, offer: dict[str, Any], now: datetime) -> dict[str, Any] | None:
    """Mark a waiting entry as holding `offer` (one conditional update: of two freed slots, one
    offer per entry); the entry after, or None when it is not waiting any more."""
    return get_db()[WAITLIST].find_one_and_update(
        {"_id": entry_id, "status": WAITING},
        {"$set": {"status": OFFERED, "offer": offer, "updatedAt": now}}, return_document=ReturnDocument.AFTER)


def back_to_waiting(entry_id: ObjectId, appointment_id: ObjectId, now: datetime) -> None:
    """Compensation of `take_for_offer`: the entry waits again if it still names this offer."""
    get_db()[WAITLIST].update_one({"_id": entry_id, "status": OFFERED, "offer.appointment": appointment_id},
                                  {"$set": {"status": WAITING, "offer": None, "updatedAt": now}})


def finish_offer(entry_id: ObjectId, appointment_id: ObjectId, status: str, now: datetime) -> dict[str, Any] | None:
    """The entry holding the offer is done (`accepted`, `declined`, `lapsed`): its seat given back.
    The entry after, or None when it does not hold that offer any more."""
    return get_db()[WAITLIST].find_one_and_update(
        {"_id": entry_id, "status": OFFERED, "offer.appointment": appointment_id},
        {"$set": {"status": status, "updatedAt": now, "seat": released_seat(entry_id)}},
        return_document=ReturnDocument.AFTER)


def find_own(entry_id: ObjectId, patient_id: ObjectId) -> dict[str, Any] | None:
    """The patient's entry (None also when it is someone else's)."""
    return get_db()[WAITLIST].find_one({"_id": entry_id, "patient": patient_id})


def offers_expired(now: datetime, limit: int) -> list[dict[str, Any]]:
    """Entries still holding an offer whose time ran out (the sweeper's read)."""
    return list(get_db()[WAITLIST].find({"status": OFFERED, "offer.expiresAt": {"$lte": now}}, {"offer": 1})
                .limit(limit))


def delete_of_patient(patient_id: ObjectId) -> int:
    """Every waitlist entry of the patient (the erase of their account; index `patient_created`)."""
    return int(get_db()[WAITLIST].delete_many({"patient": patient_id}).deleted_count)


def past(status: str, now: datetime, limit: int) -> list[dict[str, Any]]:
    """Entries in `status` whose last window closed (the sweeper's read)."""
    return list(get_db()[WAITLIST].find({"status": status, "endsAt": {"$lte": now}}, {"offer": 1}).limit(limit))


def end_waiting(entry_id: ObjectId, now: datetime) -> bool:
    """A waiting entry whose days are over is `ended`, its seat given back (one conditional
    update: an offer made meanwhile keeps it); False when it was not waiting any more."""
    ended = get_db()[WAITLIST].update_one(
        {"_id": entry_id, "status": WAITING},
        {"$set": {"status": ENDED, "updatedAt": now, "seat": released_seat(entry_id)}})
    return bool(ended.modified_count)


def without_end(db: Database[dict[str, Any]], status: str, limit: int) -> list[dict[str, Any]]:
    """Entries in `status` stored before `endsAt` existed (the migration's read)."""
    return list(db[WAITLIST].find({"status": status, "endsAt": None}, {"untilDay": 1, "to": 1}).limit(limit))


def set_end(db: Database[dict[str, Any]], entry_id: ObjectId, ends: datetime) -> bool:
    """Give an entry stored before `endsAt` existed its end (kept if it has one already)."""
    return bool(db[WAITLIST].update_one({"_id": entry_id, "endsAt": None}, {"$set": {"endsAt": ends}}).modified_count)
