"""Texts of the appointment notices (SMS and e-mail), and who receives them. Pure.

Only the event, the date and time in the recipient's zone and a link: never symptoms,
descriptions, names or the video room id (D-32: the reference put PHI in its SMS bodies). The
link opens the frontend's appointments page (`APP_BASE_URL/appointments`): it has no page per
appointment, and its cards carry the Join Call button with the room.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from functions.appointments.grid import aware
from functions.appointments.status import CANCELLED, CONFIRMED, PENDING
from functions.core.config import get_settings


@dataclass(frozen=True)
class Recipient:
    contact: str
    contact_type: str  # "email" | "phone"
    timezone: str
    user_id: Any = None


def recipient_of(person: Mapping[str, Any] | None, user_id: Any = None) -> Recipient | None:
    if not person or not person.get("contact"):
        return None
    contact_type = person.get("contactType") or ("email" if "@" in str(person["contact"]) else "phone")
    return Recipient(str(person["contact"]), str(contact_type),
                     str(person.get("timezone") or get_settings().default_timezone), user_id)


def when_text(instant: datetime, timezone: str) -> str:
    try:
        local = aware(instant).astimezone(ZoneInfo(timezone))
    except (ZoneInfoNotFoundError, ValueError):
        local = aware(instant).astimezone(UTC)
    return f"{local:%a} {local.day} {local:%b %Y}, {local:%H:%M} {local.tzname()}"


_SUBJECTS = {
    "booked": "Appointment booked",
    "requested": "New appointment request",
    "booked_confirmed": "Appointment confirmed",
    "new_appointment": "New appointment",
    CONFIRMED: "Appointment confirmed",
    CANCELLED: "Appointment cancelled",
    "rescheduled": "Appointment rescheduled",
    "reminder": "Appointment reminder",
}


def booking_kinds(status: str) -> tuple[str, str]:
    """The notices of a new booking, to the patient and to the doctor: a `pending` one awaits the
    doctor's confirmation (which sends `confirmed` later); any other is confirmed, said once."""
    return ("booked", "requested") if status == PENDING else ("booked_confirmed", "new_appointment")


def notification_text(kind: str, start: datetime, timezone: str, base_url: str,
                      previous_start: datetime | None = None) -> tuple[str, str]:
    """Subject and body. Only the event, the date and time in the recipient's zone and a link:
    never PHI (see the module docstring)."""
    when = when_text(start, timezone)
    sentences = {
        "booked": f"your appointment on {when} is booked and awaits the doctor's confirmation.",
        "requested": f"you have a new appointment request for {when}.",
        "booked_confirmed": f"your appointment on {when} is booked and confirmed.",
        "new_appointment": f"you have a new confirmed appointment on {when}.",
        CONFIRMED: f"the appointment on {when} is confirmed.",
        CANCELLED: f"the appointment on {when} was cancelled.",
        "rescheduled": (f"the appointment on {when_text(previous_start, timezone)} moved to {when}."
                        if previous_start else f"the appointment moved to {when}."),
        "reminder": f"reminder: you have an appointment on {when}.",
    }
    link = f"{base_url.rstrip('/')}/appointments"
    return f"CureConnect: {_SUBJECTS[kind]}", f"CureConnect: {sentences[kind]} Details: {link}"
