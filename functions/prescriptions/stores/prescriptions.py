"""`prescriptions`: the only module issuing commands to it, and the indexes it relies on.

Every function is one statement; the guarantee each gives is in its docstring. Quantities a
pharmacy may still dispense live in a top-level map `remaining: {"m0": n, "m1": m, ...}` (one key
per medication, by position) rather than inside the `medications` array: a conditional `$inc` on
`remaining.m0` is a plain dotted path, which FerretDB v1.24 evaluates like MongoDB (it does not on
positional paths into arrays).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument

from functions.core.db import get_db, insert_unless_duplicate
from functions.core.paging import find_page
from functions.prescriptions.status import ACTIVE

PRESCRIPTIONS = "prescriptions"

INDEXES = {
    PRESCRIPTIONS: [
        IndexModel([("prescriptionNumber", ASCENDING)], unique=True, name="uniq_number"),
        IndexModel([("verificationCode", ASCENDING)], unique=True, name="uniq_code"),
        IndexModel([("patient", ASCENDING), ("createdAt", DESCENDING)], name="patient_created"),
        IndexModel([("doctor", ASCENDING), ("createdAt", DESCENDING)], name="doctor_created"),
        IndexModel([("appointment", ASCENDING)], name="appointment"),
        IndexModel([("reservationsPending", ASCENDING)], name="reservations_pending"),  # the repair sweep
    ],
}

# What the lists need: everything but the dispensing bookkeeping.
_LIST_PROJECTION = {"remaining": 0, "pharmacistIds": 0, "verificationCode": 0}
_SORT_NEWEST = [("createdAt", DESCENDING), ("_id", DESCENDING)]


def _rx() -> Any:
    return get_db()[PRESCRIPTIONS]


def insert(doc: dict[str, Any]) -> bool:
    """Insert a prescription; False when a unique key (number or verification code) is taken."""
    return insert_unless_duplicate(_rx(), doc)


def get(rx_id: ObjectId) -> dict[str, Any] | None:
    found: dict[str, Any] | None = _rx().find_one({"_id": rx_id})
    return found


def latest_for_appointment(appointment_id: ObjectId) -> dict[str, Any] | None:
    """The newest prescription written for an appointment (the existing frontend asks for a
    prescription by its appointment's id)."""
    found = list(_rx().find({"appointment": appointment_id}).sort(_SORT_NEWEST).limit(1))
    return found[0] if found else None


def by_code(code: str) -> dict[str, Any] | None:
    found: dict[str, Any] | None = _rx().find_one({"verificationCode": code})
    return found


def list_for(field: str, user_id: ObjectId, skip: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    """One page of a patient's (`field="patient"`) or a doctor's (`"doctor"`) prescriptions,
    newest first, and the total (counted only when the page does not already tell it)."""
    return find_page(_rx(), {field: user_id}, sort=_SORT_NEWEST, skip=skip, limit=limit,
                     projection=_LIST_PROJECTION)


def documents_for(patient_id: ObjectId, limit: int) -> list[dict[str, Any]]:
    """Up to `limit` of a patient's prescriptions, whole (verification code included: their PDFs
    print it), newest first, in one read."""
    return list(_rx().find({"patient": patient_id}).sort(_SORT_NEWEST).limit(limit))


def revoke(rx_id: ObjectId, doctor_id: ObjectId, changes: Mapping[str, Any]) -> dict[str, Any] | None:
    """Revoke, only if the prescription is this doctor's and still active; the document after,
    or None (not theirs, or no longer active)."""
    found: dict[str, Any] | None = _rx().find_one_and_update(
        {"_id": rx_id, "doctor": doctor_id, "status": ACTIVE}, {"$set": dict(changes)},
        return_document=ReturnDocument.AFTER)
    return found


def consume(rx_id: ObjectId, patient_id: ObjectId, now: datetime, takes: Mapping[str, int],
            pharmacist_id: ObjectId, order_id: ObjectId) -> bool:
    """Take `takes[key]` units from each `remaining.<key>`, all or nothing, in one conditional
    write: the prescription must be this patient's, active, unexpired and hold enough of every
    medication at the moment of the write, so concurrent orders can never take more than was
    prescribed (no quantity goes below zero). Records the pharmacist in `pharmacistIds`, and the
    reservation of `order_id` (`reservations.<order>`: what it took, when) in the same write, so a
    release is exact and once, and the repair sweep finds reservations whose order never came."""
    query: dict[str, Any] = {"_id": rx_id, "patient": patient_id, "status": ACTIVE, "validUntil": {"$gt": now}}
    query.update({f"remaining.{key}": {"$gte": qty} for key, qty in takes.items()})
    result = _rx().update_one(query, {"$inc": {f"remaining.{key}": -qty for key, qty in takes.items()},
                                      "$addToSet": {"pharmacistIds": pharmacist_id},
                                      "$set": {"updatedAt": now, "reservationsPending": True,
                                               f"reservations.{order_id}": {"takes": dict(takes), "at": now}}})
    return bool(result.modified_count == 1)


def release_reservation(rx_id: ObjectId, order_id: ObjectId, takes: Mapping[str, int], now: datetime) -> bool:
    """Give back what the reservation of `order_id` took, if that reservation is still recorded
    (so at most once, whoever repeats it)."""
    update: dict[str, Any] = {"$unset": {f"reservations.{order_id}": ""}, "$set": {"updatedAt": now}}
    if takes:
        update["$inc"] = {f"remaining.{key}": qty for key, qty in takes.items()}
    result = _rx().update_one({"_id": rx_id, f"reservations.{order_id}": {"$exists": True}}, update)
    return bool(result.modified_count == 1)


def settle_reservation(rx_id: ObjectId, order_id: ObjectId) -> bool:
    """Forget the record of a reservation whose order stands (what it took stays taken)."""
    result = _rx().update_one({"_id": rx_id, f"reservations.{order_id}": {"$exists": True}},
                              {"$unset": {f"reservations.{order_id}": ""}})
    return bool(result.modified_count == 1)


def with_pending_reservations(cap: int) -> list[dict[str, Any]]:
    """Up to `cap` prescriptions holding reservation records (one indexed equality)."""
    return list(_rx().find({"reservationsPending": True}, {"reservations": 1}).limit(cap))


def clear_pending_flag(rx_id: ObjectId) -> None:
    """Drop the flag once no record is left (a record set meanwhile keeps it)."""
    _rx().update_one({"_id": rx_id, "reservations": {}}, {"$unset": {"reservationsPending": ""}})


def give_back(rx_id: ObjectId, gives: Mapping[str, tuple[int, int]], now: datetime) -> bool:
    """Return `gives[key][0]` units to each `remaining.<key>`, all or nothing, never above the
    prescribed allowance `gives[key][1]` (a release repeated by mistake changes nothing)."""
    query: dict[str, Any] = {"_id": rx_id}
    query.update({f"remaining.{key}": {"$lte": cap - qty} for key, (qty, cap) in gives.items()})
    result = _rx().update_one(query, {"$inc": {f"remaining.{key}": qty for key, (qty, _) in gives.items()},
                                      "$set": {"updatedAt": now}})
    return bool(result.modified_count == 1)


def delete_of_patient(patient_id: ObjectId) -> int:
    """The erased patient's prescriptions, once their retention is over (index `patient_created`)."""
    return int(_rx().delete_many({"patient": patient_id}).deleted_count)
