"""The waitlist: a patient joins a doctor's waitlist for a day (or up to 14 days) and a window,
lists their entries, and leaves.

Limits: WAITLIST_MAX_ENTRIES live entries per patient, enforced by seats under a unique index
(`stores.waitlist`): a join reads the seats the patient holds once, inserts the entry with the
first free one, and on a refusal (a concurrent join took it) tries the next, so twenty joins at
once against three seats give exactly three entries. A join is one write (the entry): nothing to
compensate. Offers are `waitlist_offers`; their answers, lapse and the end of entries whose
days are over, `waitlist_answers`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from bson import ObjectId

from functions.appointments.grid import aware, doctor_timezone, parse_day
from functions.appointments.schemas import WaitlistIn
from functions.appointments.slots import listed_doctor
from functions.appointments.status import OFFERED, WAITING
from functions.appointments.stores import waitlist as store
from functions.core import clock
from functions.core.config import get_settings
from functions.core.db import object_id
from functions.core.errors import Code, Conflict, NotFound, Unprocessable
from functions.core.security import Principal

MAX_RANGE_DAYS = 14


def entry_to_api(entry: dict[str, Any]) -> dict[str, Any]:
    """`{_id, doctor, day, untilDay, from, to, status, offer: {day, time, expiresAt} | null}`."""
    offer = entry.get("offer") if entry.get("status") == OFFERED else None
    days = list(entry.get("days") or [])
    return {
        "_id": str(entry["_id"]), "doctor": str(entry["doctor"]), "day": days[0] if days else None,
        "untilDay": days[-1] if days else None, "from": entry.get("from"), "to": entry.get("to"),
        "status": entry.get("status"),
        "offer": {"appointment": str(offer["appointment"]), "day": offer["day"], "time": offer["time"],
                  "expiresAt": aware(offer["expiresAt"]).isoformat()} if offer else None,
    }


def window_end(last: date, to: str, tz: tzinfo) -> datetime:
    """When the entry's window on its last day closes (UTC): from then on no slot can be offered
    to it, and the sweeper ends it (`waitlist_answers.sweep`)."""
    hours, minutes = (int(part) for part in to.split(":"))
    return datetime.combine(last, time(hours, minutes), tzinfo=tz).astimezone(UTC)


def join(patient: Principal, body: WaitlistIn) -> dict[str, Any]:
    """POST /appointment/waitlist."""
    now, limit = clock.now(), get_settings().waitlist_max_entries
    doctor_id = object_id(body.doctor, "Doctor")
    if doctor_id == patient.id:
        raise Unprocessable("You cannot wait for yourself", code=Code.SELF_BOOKING)
    first = parse_day(body.day, now)
    last = parse_day(body.untilDay, now) if body.untilDay else first
    if last < first:
        raise Unprocessable("`untilDay` must not be before `day`", code=Code.INVALID_DATE)
    if (last - first).days + 1 > MAX_RANGE_DAYS:
        raise Unprocessable(f"A waitlist entry covers at most {MAX_RANGE_DAYS} days", code=Code.DATE_OUT_OF_RANGE)
    if last < now.date():
        raise Unprocessable("These days are past", code=Code.SLOT_IN_PAST)
    doctor = listed_doctor(doctor_id, patient.others)  # approved and active, else 404
    days = [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]
    ends = window_end(last, body.to, doctor_timezone(doctor))
    if ends <= now:
        raise Unprocessable("This window is over", code=Code.SLOT_IN_PAST)
    entry_id = ObjectId()
    doc: dict[str, Any] = {"_id": entry_id, "patient": patient.id, "doctor": doctor_id, "days": days,
                           "untilDay": days[-1], "from": body.from_, "to": body.to, "status": WAITING,
                           "offer": None, "endsAt": ends, "createdAt": now, "updatedAt": now}
    held = store.seats_held(patient.id)
    for seat in (f"{patient.id}|{k}" for k in range(limit)):
        if seat in held:
            continue
        if store.insert({**doc, "seat": seat}):
            return entry_to_api(doc)
    raise Conflict(f"You are already on {limit} waitlists, the most allowed", code=Code.WAITLIST_FULL)


def mine(patient: Principal) -> list[dict[str, Any]]:
    """GET /appointment/waitlist/my: the caller's entries, oldest first."""
    return [entry_to_api(e) for e in store.list_for(patient.id)]


def leave(patient: Principal, entry_id_text: str) -> None:
    """DELETE /appointment/waitlist/:id: the owner's entry goes (its seat with it). An entry
    holding an offer is declined first (409); another user's entry is a 404 like a missing one."""
    entry_id = object_id(entry_id_text, "Waitlist entry")
    if store.delete_waiting(entry_id, patient.id):
        return
    entry = store.find_own(entry_id, patient.id)
    if entry is None:
        raise NotFound.of("Waitlist entry")
    raise Conflict("This entry holds an offer: accept or decline it first", code=Code.ILLEGAL_TRANSITION)
