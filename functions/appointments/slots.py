"""A doctor's free slots on a day, and whether a doctor can be booked at all.

GET /appointment/slots costs two reads (the doctor, the day's appointments, read by doctor and
`day: {$in: [the day before, the day]}` so that its cost does not grow with the doctor's
history); booking and
rescheduling check the doctor the same way (`listed_doctor`, `bookable`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from functions.appointments.grid import (
    Availability,
    Interval,
    availability_from_doc,
    aware,
    busy_window,
    compute_slots,
    doctor_accepting,
    doctor_timezone,
    local_today,
    parse_day,
    time_off_intervals,
    within_horizon,
)
from functions.appointments.status import ACTIVE
from functions.appointments.stores import appointments as store
from functions.core import clock, users
from functions.core.db import object_id
from functions.core.directory import is_listed
from functions.core.errors import Code, NotFound, Unprocessable


def listed_doctor(doctor_id: Any, read: Mapping[Any, dict[str, Any] | None] | None = None) -> dict[str, Any]:
    """The listed doctor, or 404. `read`: users the request read already (the guard's read,
    `Principal.others`); the doctor is read only when it is not among them."""
    oid = object_id(doctor_id, "Doctor")
    if read is not None and oid in read:
        doctor = read[oid]
        doctor = doctor if doctor is not None and doctor.get("role") == "doctor" else None
    else:
        doctor = users.find_doctor(oid)
    if doctor is None or not is_listed(doctor):
        raise NotFound.of("Doctor")
    return doctor


def bookable(doctor: Mapping[str, Any]) -> tuple[Availability, Any]:
    av, tz = availability_from_doc(doctor.get("availability")), doctor_timezone(doctor)
    if not doctor_accepting(doctor, av):
        raise Unprocessable("This doctor is not accepting bookings", code=Code.NOT_ACCEPTING)
    return av, tz


def local_days(window: tuple[datetime, datetime], tz: ZoneInfo) -> list[str]:
    """The doctor-local days (`day` of an appointment) on which a start in [window) can fall:
    the day itself and, since the window reaches back before the first slot, often the day before."""
    first, last = window[0].astimezone(tz).date(), (window[1] - timedelta(microseconds=1)).astimezone(tz).date()
    return [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]


def available_slots(doctor_id: str, day_text: str) -> dict[str, Any]:
    """GET /appointment/slots/:doctorId/:date: two reads (the doctor, the day's appointments)."""
    now = clock.now()
    day = parse_day(day_text, now)
    doctor = listed_doctor(doctor_id)
    av, tz = availability_from_doc(doctor.get("availability")), doctor_timezone(doctor)
    if not doctor_accepting(doctor, av):
        av = Availability(weekly={}, accepting=False)
    window = busy_window(day, tz, av)
    busy: list[Interval] = []
    if window is not None and av.accepting and within_horizon(day, now, tz, av) and day >= local_today(now, tz):
        busy = [Interval(aware(s), aware(e))
                for s, e in store.busy_intervals(doctor["_id"], local_days(window, tz), *window, ACTIVE)]
    slots = compute_slots(day, tz, av, now=now, time_off=time_off_intervals(doctor), busy=busy)
    return {
        "date": day.isoformat(),
        "timezone": tz.key,
        "doctor": {"id": doctor["_id"], "name": doctor.get("name"), "speciality": doctor.get("speciality")},
        "availableSlots": [s.label for s in slots],
        "slots": [s.to_api() for s in slots],
    }
