"""The doctor's scheduling settings: weekly hours, slot length and booking rules, and time off.

Stored on the doctor's user document (through `core.users`) and read by the slots and booking
rules; `/doctor/availability` and `/doctor/time-off` call these. A change that can open slots
(new hours, time off removed) records their offer to the waitlist (`waitlist_opened`).
"""

from __future__ import annotations

import re
from datetime import UTC, timedelta
from typing import Any

from bson import ObjectId

from functions.appointments import waitlist_opened
from functions.appointments.grid import availability_from_doc, availability_to_api, aware, doctor_timezone
from functions.appointments.schemas import AvailabilityIn, TimeOffIn
from functions.appointments.status import ACTIVE
from functions.appointments.stores import appointments as store
from functions.core import clock, users
from functions.core.errors import Code, NotFound, Unprocessable
from functions.core.security import Principal

MAX_TIME_OFF_ENTRIES = 100


def get_availability(doctor: Principal) -> dict[str, Any]:
    """The doctor's setting (or the default schedule) and the time off not over yet."""
    av = availability_from_doc(doctor.user.get("availability"))
    tz = doctor_timezone(doctor.user)
    now = clock.now()
    entries = doctor.user.get("timeOff") or {}
    upcoming = sorted(
        ({"_id": key, "start": aware(e["start"]), "end": aware(e["end"]), "reason": e.get("reason", "")}
         for key, e in entries.items() if aware(e["end"]) > now),
        key=lambda e: e["start"],
    )
    return {"availability": availability_to_api(av, tz.key), "timeOff": upcoming}


def set_availability(doctor: Principal, body: AvailabilityIn) -> dict[str, Any]:
    """Replaces the setting. Bookings already made keep their claims: a grid change can never
    put a new slot on top of them (the claims refuse it) nor move them. Slots it opens are
    offered to the waitlist off the request path (`waitlist_opened`)."""
    stored = {**body.model_dump(), "updatedAt": clock.now()}
    users.set_availability(doctor.id, stored)
    waitlist_opened.recorded(doctor.user)
    return availability_to_api(availability_from_doc(stored), doctor_timezone(doctor.user).key)


def add_time_off(doctor: Principal, body: TimeOffIn) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Time off blocks new bookings; appointments already inside it stay until someone acts on
    them, so the doctor is told which ones to reschedule or cancel."""
    tz, now = doctor_timezone(doctor.user), clock.now()
    start = (body.start if body.start.tzinfo else body.start.replace(tzinfo=tz)).astimezone(UTC)
    end = (body.end if body.end.tzinfo else body.end.replace(tzinfo=tz)).astimezone(UTC)
    if end <= start:
        raise Unprocessable("end must be after start", code=Code.INVALID_RANGE)
    if end <= now:
        raise Unprocessable("This time off is already over", code=Code.INVALID_RANGE)
    if end - start > timedelta(days=366):
        raise Unprocessable("Time off can span at most 366 days", code=Code.INVALID_RANGE)
    existing = doctor.user.get("timeOff") or {}
    expired = [key for key, e in existing.items() if aware(e["end"]) <= now]
    if len(existing) - len(expired) >= MAX_TIME_OFF_ENTRIES:
        raise Unprocessable(f"At most {MAX_TIME_OFF_ENTRIES} upcoming time-off entries", code=Code.TOO_MANY)
    key = str(ObjectId())
    entry = {"start": start, "end": end, "reason": body.reason, "createdAt": now}
    users.add_time_off(doctor.id, key, entry, expired)
    affected = store.overlapping(doctor.id, start, end, ACTIVE)
    return {"_id": key, **entry}, affected


def remove_time_off(doctor: Principal, entry_id: str) -> None:
    """Slots it opens are offered to the waitlist off the request path (`waitlist_opened`)."""
    if not re.fullmatch(r"[0-9a-f]{24}", entry_id or "") or not users.remove_time_off(doctor.id, entry_id):
        raise NotFound.of("Time off")
    waitlist_opened.recorded(doctor.user)
