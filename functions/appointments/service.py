"""Rules of the appointments domain: pure Python, no Chalice import.

The first half is pure (no I/O, unit-tested directly): the doctor's availability, slot
computation across daylight-saving changes, booking checks, the status machine and the text
of notifications. The second half is the use cases the routes and Lambdas call; they read and
write through `store`, arm reminders through `reminders` and send through `core.notify`.

Time: instants are UTC `datetime`s; a doctor's schedule is wall-clock `HH:MM` in the doctor's
IANA zone. On the day clocks go back, a repeated wall time means its first occurrence; on the
day clocks go forward, wall times that do not exist are never offered.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bson import ObjectId

from functions.appointments import reminders, store
from functions.core import audit, clock, notify
from functions.core.config import get_settings
from functions.core.db import maybe_object_id, object_id
from functions.core.errors import BadRequest, Conflict, Forbidden, NotFound, Unprocessable

PENDING, CONFIRMED, COMPLETED, NO_SHOW, CANCELLED = "pending", "confirmed", "completed", "no_show", "cancelled"
ACTIVE = (PENDING, CONFIRMED)  # statuses that hold a slot
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MAX_SLOT_MINUTES = 240
MAX_TIME_OFF_ENTRIES = 100
REMINDER_EARLY_TOLERANCE = timedelta(minutes=1)  # the Scheduler may fire a little early
SWEEP_GRACE = timedelta(minutes=2)  # the sweeper lets the Scheduler go first

_DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CLOCK_RE = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


# ================================================================ pure: availability and slots


@dataclass(frozen=True)
class Availability:
    """A doctor's bookable hours. `weekly[weekday]` = ranges of minutes since local midnight."""

    weekly: Mapping[str, tuple[tuple[int, int], ...]]
    slot_minutes: int = 30
    buffer_minutes: int = 0
    min_notice_minutes: int = 60
    horizon_days: int = 30
    accepting: bool = True
    is_default: bool = False


DEFAULT_AVAILABILITY = Availability(weekly={day: ((9 * 60, 17 * 60),) for day in WEEKDAYS}, is_default=True)


@dataclass(frozen=True)
class Slot:
    start: datetime  # UTC
    end: datetime  # UTC
    label: str  # HH:MM on the doctor's wall clock

    def to_api(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "label": self.label}


@dataclass(frozen=True)
class Interval:
    start: datetime
    end: datetime


def _hhmm_to_minutes(value: str) -> int:
    if value == "24:00":
        return 24 * 60
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


def minutes_to_hhmm(value: int) -> str:
    return f"{value // 60:02d}:{value % 60:02d}"


def availability_from_doc(doc: Mapping[str, Any] | None) -> Availability:
    """The stored `availability` field of a doctor (or the default schedule when unset)."""
    if not doc:
        return DEFAULT_AVAILABILITY
    weekly_doc = doc.get("weeklyHours")
    if weekly_doc is None:
        weekly: Mapping[str, tuple[tuple[int, int], ...]] = DEFAULT_AVAILABILITY.weekly
    else:
        weekly = {
            day: tuple((_hhmm_to_minutes(r["start"]), _hhmm_to_minutes(r["end"])) for r in weekly_doc.get(day, []))
            for day in WEEKDAYS
        }
    return Availability(
        weekly=weekly,
        slot_minutes=int(doc.get("slotMinutes", 30)),
        buffer_minutes=int(doc.get("bufferMinutes", 0)),
        min_notice_minutes=int(doc.get("minNoticeMinutes", 60)),
        horizon_days=int(doc.get("horizonDays", 30)),
        accepting=bool(doc.get("acceptingBookings", True)),
    )


def availability_to_api(av: Availability, timezone: str) -> dict[str, Any]:
    return {
        "timezone": timezone,
        "weeklyHours": {
            day: [{"start": minutes_to_hhmm(s), "end": minutes_to_hhmm(e)} for s, e in av.weekly.get(day, ())]
            for day in WEEKDAYS
        },
        "slotMinutes": av.slot_minutes,
        "bufferMinutes": av.buffer_minutes,
        "minNoticeMinutes": av.min_notice_minutes,
        "horizonDays": av.horizon_days,
        "acceptingBookings": av.accepting,
        "isDefault": av.is_default,
    }


def doctor_timezone(doctor: Mapping[str, Any]) -> ZoneInfo:
    name = doctor.get("timezone") or get_settings().default_timezone
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(get_settings().default_timezone)


def doctor_accepting(doctor: Mapping[str, Any], av: Availability) -> bool:
    """The doctor's own switch; the reference's `availablity` string flag is honoured too (D-46)."""
    legacy = doctor.get("availablity", True)
    return av.accepting and legacy not in (False, "false")


def time_off_intervals(doctor: Mapping[str, Any]) -> list[Interval]:
    entries = doctor.get("timeOff") or {}
    values = entries.values() if isinstance(entries, Mapping) else entries
    return [Interval(_aware(e["start"]), _aware(e["end"])) for e in values if e.get("start") and e.get("end")]


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def parse_day(value: str) -> date:
    """`YYYY-MM-DD` that names a real calendar day, else 400 (D-13: `2030-02-31` is refused)."""
    if not isinstance(value, str) or not _DAY_RE.match(value):
        raise BadRequest("Invalid date format. Use YYYY-MM-DD", code="INVALID_DATE")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadRequest("This date does not exist", code="INVALID_DATE") from None


def normalize_time(value: str) -> str:
    """`9:00` -> `09:00` (D-13: one spelling per slot, so the unique key cannot be bypassed)."""
    match = _CLOCK_RE.match(value.strip()) if isinstance(value, str) else None
    if not match:
        raise BadRequest("Invalid time format. Use HH:MM", code="INVALID_TIME")
    return f"{int(match.group(1)):02d}:{match.group(2)}"


def local_to_utc(day: date, minutes: int, tz: ZoneInfo) -> datetime | None:
    """The UTC instant of wall time `minutes` after local midnight on `day`, or None when that
    wall time does not exist (skipped by a spring-forward). Repeated wall times resolve to their
    first occurrence (fold=0)."""
    naive = datetime.combine(day, time()) + timedelta(minutes=minutes)
    instant = naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) != naive:
        return None
    return instant


def overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    return a_start < b_end and b_start < a_end


def candidate_slots(day: date, tz: ZoneInfo, av: Availability) -> list[Slot]:
    """Every slot of the doctor's grid on that local day, before anything is taken away.

    A grid starts at each range start and advances by slot + buffer; a slot must end by the end
    of its range.
    """
    slots: list[Slot] = []
    step = av.slot_minutes + av.buffer_minutes
    for range_start, range_end in av.weekly.get(WEEKDAYS[day.weekday()], ()):
        minute = range_start
        while minute + av.slot_minutes <= range_end and minute < 24 * 60:
            start = local_to_utc(day, minute, tz)
            if start is not None:
                slots.append(Slot(start, start + timedelta(minutes=av.slot_minutes), minutes_to_hhmm(minute)))
            minute += step
    slots.sort(key=lambda s: s.start)
    unique: list[Slot] = []
    for slot in slots:  # two ranges can never yield the same label, but be safe
        if not unique or unique[-1].label != slot.label:
            unique.append(slot)
    return unique


def local_today(now: datetime, tz: ZoneInfo) -> date:
    return now.astimezone(tz).date()


def within_horizon(day: date, now: datetime, tz: ZoneInfo, av: Availability) -> bool:
    return (day - local_today(now, tz)).days <= av.horizon_days


def compute_slots(
    day: date,
    tz: ZoneInfo,
    av: Availability,
    *,
    now: datetime,
    time_off: Iterable[Interval] = (),
    busy: Iterable[Interval] = (),
) -> list[Slot]:
    """Free slots of a local day: the grid minus time off, minus taken appointments (widened by
    the buffer), minus the past and the minimum notice, and nothing beyond the horizon."""
    if not av.accepting or not within_horizon(day, now, tz, av) or day < local_today(now, tz):
        return []
    earliest = now + timedelta(minutes=av.min_notice_minutes)
    buffer = timedelta(minutes=av.buffer_minutes)
    off, taken = list(time_off), list(busy)
    free = []
    for slot in candidate_slots(day, tz, av):
        if slot.start < earliest:
            continue
        if any(overlaps(slot.start, slot.end, o.start, o.end) for o in off):
            continue
        if any(overlaps(slot.start - buffer, slot.end + buffer, b.start, b.end) for b in taken):
            continue
        free.append(slot)
    return free


def busy_window(day: date, tz: ZoneInfo, av: Availability) -> tuple[datetime, datetime] | None:
    """The UTC window of appointments that can touch that day's grid (None: no grid that day)."""
    grid = candidate_slots(day, tz, av)
    if not grid:
        return None
    reach = timedelta(minutes=MAX_SLOT_MINUTES + av.buffer_minutes)
    return grid[0].start - reach, grid[-1].end + timedelta(minutes=av.buffer_minutes)


def check_bookable(
    day: date, label: str, tz: ZoneInfo, av: Availability, *, now: datetime, time_off: Iterable[Interval] = ()
) -> Slot:
    """The slot the slots endpoint would offer for `day`+`label`, ignoring other bookings (the
    database's unique keys decide those); else a 422 that says why."""
    if not av.accepting:
        raise Unprocessable("This doctor is not accepting bookings", code="NOT_ACCEPTING")
    minute = _hhmm_to_minutes(label)
    instant = local_to_utc(day, minute, tz)
    if instant is not None and instant < now:
        raise Unprocessable("Cannot book an appointment in the past", code="SLOT_IN_PAST")
    if not within_horizon(day, now, tz, av):
        raise Unprocessable(f"Bookings open at most {av.horizon_days} days ahead", code="BEYOND_HORIZON")
    slot = next((s for s in candidate_slots(day, tz, av) if s.label == label), None)
    if slot is None:
        raise Unprocessable("This time is not one of the doctor's slots", code="NOT_A_SLOT")
    if slot.start < now + timedelta(minutes=av.min_notice_minutes):
        raise Unprocessable(f"Book at least {av.min_notice_minutes} minutes ahead", code="TOO_SOON")
    if any(overlaps(slot.start, slot.end, o.start, o.end) for o in time_off):
        raise Unprocessable("The doctor is away at this time", code="DOCTOR_AWAY")
    return slot


def slot_key(owner_id: Any, start: datetime) -> str:
    """Unique claim key: one active appointment per doctor (or patient) and start instant."""
    return f"{owner_id}|{start.astimezone(UTC):%Y-%m-%dT%H:%MZ}"


def released_key(appointment_id: Any) -> str:
    """What a slot key becomes when the appointment stops holding it (still unique)."""
    return f"released|{appointment_id}"


def reminder_offsets(start: datetime, offsets: Iterable[int], now: datetime) -> list[int]:
    """Offsets (minutes before start) whose send time is still ahead; past ones are skipped."""
    return sorted({o for o in offsets if o > 0 and start - timedelta(minutes=o) > now}, reverse=True)


def room_id() -> str:
    return secrets.token_urlsafe(16)  # 128 random bits: unguessable (the reference used Math.random)


# ================================================================ pure: status machine


@dataclass(frozen=True)
class Transition:
    action: str
    sources: tuple[str, ...]
    target: str
    roles: tuple[str, ...]
    after_start: bool = False


TRANSITIONS: dict[str, Transition] = {
    "confirm": Transition("confirm", (PENDING,), CONFIRMED, ("doctor",)),
    "complete": Transition("complete", (CONFIRMED,), COMPLETED, ("doctor",), after_start=True),
    "no_show": Transition("no_show", (CONFIRMED,), NO_SHOW, ("doctor",), after_start=True),
    "cancel": Transition("cancel", ACTIVE, CANCELLED, ("patient", "doctor")),
}


def participant_role(appt: Mapping[str, Any], user_id: Any) -> str | None:
    if appt.get("patient") == user_id:
        return "patient"
    if appt.get("doctor") == user_id:
        return "doctor"
    return None


def check_transition(appt: Mapping[str, Any], action: str, role: str | None, *, now: datetime,
                     cancel_cutoff_minutes: int) -> Transition:
    """Raise the error that explains why `role` may not apply `action` now; return the rule."""
    rule = TRANSITIONS[action]
    if role not in rule.roles:
        raise Forbidden(f"Only the {' or the '.join(rule.roles)} can {action.replace('_', '-')} this appointment")
    if appt.get("status") not in rule.sources:
        raise Conflict(f"Cannot {action.replace('_', '-')} an appointment that is {appt.get('status')}",
                       code="ILLEGAL_TRANSITION")
    start = _aware(appt["start"])
    if rule.after_start and now < start:
        raise Unprocessable("The appointment has not started yet", code="NOT_STARTED")
    if action == "cancel" and role == "patient":
        check_patient_cutoff(start, now, cancel_cutoff_minutes)
    return rule


def check_patient_cutoff(start: datetime, now: datetime, cutoff_minutes: int) -> None:
    if now > start - timedelta(minutes=cutoff_minutes):
        raise Unprocessable(f"Appointments can be changed by the patient up to {cutoff_minutes} minutes before "
                            "the start", code="CANCEL_CUTOFF")


def transition_filter(appointment_id: ObjectId, rule: Transition, role: str, actor_id: ObjectId, *,
                      now: datetime, cancel_cutoff_minutes: int) -> dict[str, Any]:
    """The conditions of `check_transition`, as one atomic update's filter."""
    query: dict[str, Any] = {"_id": appointment_id, role: actor_id, "status": {"$in": list(rule.sources)}}
    if rule.after_start:
        query["start"] = {"$lte": now}
    if rule.action == "cancel" and role == "patient":
        query["start"] = {"$gte": now + timedelta(minutes=cancel_cutoff_minutes)}
    return query


def history_entry(status: str, actor: Mapping[str, Any] | None, role: str, now: datetime,
                  **extra: Any) -> dict[str, Any]:
    entry = {"status": status, "at": now, "by": actor.get("_id") if actor else None, "role": role}
    entry.update({k: v for k, v in extra.items() if v not in (None, "")})
    return entry


# ================================================================ pure: notification texts


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
        local = _aware(instant).astimezone(ZoneInfo(timezone))
    except (ZoneInfoNotFoundError, ValueError):
        local = _aware(instant).astimezone(UTC)
    return f"{local:%a} {local.day} {local:%b %Y}, {local:%H:%M} {local.tzname()}"


_SUBJECTS = {
    "booked": "Appointment booked",
    "requested": "New appointment request",
    "confirmed": "Appointment confirmed",
    "cancelled": "Appointment cancelled",
    "rescheduled": "Appointment rescheduled",
    "reminder": "Appointment reminder",
}


def notification_text(kind: str, appointment_id: Any, start: datetime, timezone: str, base_url: str,
                      previous_start: datetime | None = None) -> tuple[str, str]:
    """Subject and body. Only the event, the date and time in the recipient's zone and a link:
    never symptoms, descriptions, names or the video room id (D-32)."""
    when = when_text(start, timezone)
    sentences = {
        "booked": f"your appointment on {when} is booked and awaits the doctor's confirmation.",
        "requested": f"you have a new appointment request for {when}.",
        "confirmed": f"the appointment on {when} is confirmed.",
        "cancelled": f"the appointment on {when} was cancelled.",
        "rescheduled": (f"the appointment on {when_text(previous_start, timezone)} moved to {when}."
                        if previous_start else f"the appointment moved to {when}."),
        "reminder": f"reminder: you have an appointment on {when}.",
    }
    link = f"{base_url.rstrip('/')}/appointments/{appointment_id}"
    return f"CureConnect: {_SUBJECTS[kind]}", f"CureConnect: {sentences[kind]} Details: {link}"


# ================================================================ pure: shaping for the API


def appointment_to_api(appt: Mapping[str, Any], *, full: bool = True) -> dict[str, Any]:
    parties = appt.get("parties") or {}
    patient, doctor = parties.get("patient") or {}, parties.get("doctor") or {}
    out: dict[str, Any] = {
        "_id": appt["_id"],
        "patient": {"_id": appt["patient"], "name": patient.get("name")},
        "doctor": {"_id": appt["doctor"], "name": doctor.get("name"), "speciality": doctor.get("speciality")},
        "description": appt.get("description"),
        "day": appt.get("day"),
        "time": appt.get("time"),
        "timezone": appt.get("timezone"),
        "start": appt.get("start"),
        "end": appt.get("end"),
        "durationMinutes": appt.get("durationMinutes"),
        "status": appt.get("status"),
        "createdAt": appt.get("createdAt"),
        "updatedAt": appt.get("updatedAt"),
    }
    if appt.get("cancellation"):
        out["cancellation"] = appt["cancellation"]
    if full:  # one appointment, read by a participant or an admin (and audited for doctors)
        out.update({"symptoms": appt.get("symptoms"), "roomId": appt.get("roomId"),
                    "statusHistory": appt.get("statusHistory", [])})
        if appt.get("aiSuggestions"):
            out["aiSuggestions"] = appt["aiSuggestions"]
    return out


def _party(user: Mapping[str, Any], *, doctor: bool) -> dict[str, Any]:
    snapshot = {"name": user.get("name"), "contact": user.get("contact"), "contactType": user.get("contactType"),
                "timezone": user.get("timezone")}
    if doctor:
        snapshot["speciality"] = user.get("speciality")
    return snapshot


@dataclass
class Outcome:
    """What a use case returns to its route, plus the side effects to run after the commit:
    `reminders` is "arm" (new booking), "rearm" (moved), "disarm" (cancelled) or None."""

    appointment: dict[str, Any]
    notices: list[tuple[str, Recipient | None]] = field(default_factory=list)
    reminders: str | None = None
    previous_start: datetime | None = None


# ================================================================ use cases (I/O through store)


def get_availability(doctor: Mapping[str, Any]) -> dict[str, Any]:
    av = availability_from_doc(doctor.get("availability"))
    tz = doctor_timezone(doctor)
    now = clock.now()
    entries = doctor.get("timeOff") or {}
    upcoming = sorted(
        ({"_id": key, "start": _aware(e["start"]), "end": _aware(e["end"]), "reason": e.get("reason", "")}
         for key, e in entries.items() if _aware(e["end"]) > now),
        key=lambda e: e["start"],
    )
    return {"availability": availability_to_api(av, tz.key), "timeOff": upcoming}


def set_availability(doctor: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:

    stored = {
        "weeklyHours": data.get("weeklyHours"),
        "slotMinutes": data["slotMinutes"],
        "bufferMinutes": data["bufferMinutes"],
        "minNoticeMinutes": data["minNoticeMinutes"],
        "horizonDays": data["horizonDays"],
        "acceptingBookings": data["acceptingBookings"],
        "updatedAt": clock.now(),
    }
    store.set_availability(doctor["_id"], stored)
    return availability_to_api(availability_from_doc(stored), doctor_timezone(doctor).key)


def add_time_off(doctor: Mapping[str, Any], start: datetime, end: datetime, reason: str
                 ) -> tuple[dict[str, Any], list[dict[str, Any]]]:

    tz, now = doctor_timezone(doctor), clock.now()
    start = (start if start.tzinfo else start.replace(tzinfo=tz)).astimezone(UTC)
    end = (end if end.tzinfo else end.replace(tzinfo=tz)).astimezone(UTC)
    if end <= start:
        raise Unprocessable("end must be after start", code="INVALID_RANGE")
    if end <= now:
        raise Unprocessable("This time off is already over", code="INVALID_RANGE")
    if end - start > timedelta(days=366):
        raise Unprocessable("Time off can span at most 366 days", code="INVALID_RANGE")
    existing = doctor.get("timeOff") or {}
    expired = [key for key, e in existing.items() if _aware(e["end"]) <= now]
    if len(existing) - len(expired) >= MAX_TIME_OFF_ENTRIES:
        raise Unprocessable(f"At most {MAX_TIME_OFF_ENTRIES} upcoming time-off entries", code="TOO_MANY")
    key = str(ObjectId())
    entry = {"start": start, "end": end, "reason": reason, "createdAt": now}
    store.add_time_off(doctor["_id"], key, entry, expired)
    # Time off blocks new bookings; appointments already inside it stay until someone acts on
    # them, so the doctor is told which ones to reschedule or cancel.
    affected = store.overlapping(doctor["_id"], start, end, ACTIVE)
    return {"_id": key, **entry}, affected


def remove_time_off(doctor: Mapping[str, Any], entry_id: str) -> None:

    if not re.fullmatch(r"[0-9a-f]{24}", entry_id or "") or not store.remove_time_off(doctor["_id"], entry_id):
        raise NotFound("Time off not found")


def _approved_doctor(doctor_id: Any) -> dict[str, Any]:

    doctor = store.find_doctor(object_id(doctor_id, "Doctor"))
    if doctor is None or doctor.get("approvalStatus") != "approved" or not doctor.get("active", True):
        raise NotFound("Doctor not found")
    return doctor


def available_slots(doctor_id: str, day_text: str) -> dict[str, Any]:
    """GET /appointment/slots/:doctorId/:date: two reads (the doctor, the day's appointments)."""

    day = parse_day(day_text)
    doctor = _approved_doctor(doctor_id)
    av, tz, now = availability_from_doc(doctor.get("availability")), doctor_timezone(doctor), clock.now()
    if not doctor_accepting(doctor, av):
        av = Availability(weekly={}, accepting=False)
    window = busy_window(day, tz, av)
    busy: list[Interval] = []
    if window is not None and av.accepting and within_horizon(day, now, tz, av) and day >= local_today(now, tz):
        busy = [Interval(_aware(s), _aware(e)) for s, e in store.busy_intervals(doctor["_id"], *window, ACTIVE)]
    slots = compute_slots(day, tz, av, now=now, time_off=time_off_intervals(doctor), busy=busy)
    return {
        "date": day.isoformat(),
        "timezone": tz.key,
        "doctor": {"id": doctor["_id"], "name": doctor.get("name"), "speciality": doctor.get("speciality")},
        "availableSlots": [s.label for s in slots],
        "slots": [s.to_api() for s in slots],
    }


def book(patient: Mapping[str, Any], data: Mapping[str, Any]) -> Outcome:
    """POST /appointment/new: the patient read (auth), the doctor read, one insert. The insert's
    unique keys (doctor+start, patient+start) decide races: exactly one booking wins a slot."""

    settings, now = get_settings(), clock.now()
    doctor_id = object_id(data["doctor"], "Doctor")
    if doctor_id == patient["_id"]:
        raise Unprocessable("You cannot book an appointment with yourself", code="SELF_BOOKING")
    day, label = parse_day(data["day"]), normalize_time(data["time"])
    doctor = _approved_doctor(doctor_id)
    av, tz = availability_from_doc(doctor.get("availability")), doctor_timezone(doctor)
    if not doctor_accepting(doctor, av):
        raise Unprocessable("This doctor is not accepting bookings", code="NOT_ACCEPTING")
    slot = check_bookable(day, label, tz, av, now=now, time_off=time_off_intervals(doctor))
    appointment_id = ObjectId()
    offsets = reminder_offsets(slot.start, settings.reminder_offsets_minutes, now)
    doc: dict[str, Any] = {
        "_id": appointment_id,
        "patient": patient["_id"],
        "doctor": doctor_id,
        "description": data["description"],
        "symptoms": data["symptoms"],
        "day": day.isoformat(),
        "time": label,
        "timezone": tz.key,
        "start": slot.start,
        "end": slot.end,
        "durationMinutes": av.slot_minutes,
        "status": PENDING,
        "statusHistory": [history_entry(PENDING, patient, "patient", now)],
        "roomId": room_id(),
        "slotKey": slot_key(doctor_id, slot.start),
        "patientSlotKey": slot_key(patient["_id"], slot.start),
        "parties": {"patient": _party(patient, doctor=False), "doctor": _party(doctor, doctor=True)},
        "reminderOffsets": offsets,
        "remindersSent": {},
        "createdAt": now,
        "updatedAt": now,
    }
    if data.get("aiSuggestions"):
        doc["aiSuggestions"] = data["aiSuggestions"]  # D-46: stored, no longer dropped
    clash = store.insert_appointment(doc)
    if clash == "slot":
        raise Conflict("This time slot is already booked", code="SLOT_TAKEN")
    if clash:
        raise Conflict("You already have an appointment at this time", code="PATIENT_BUSY")
    return Outcome(doc, [("booked", recipient_of(patient, patient["_id"])),
                         ("requested", recipient_of(doctor, doctor_id))], reminders="arm")


def my_appointments(user: Mapping[str, Any], statuses: Sequence[str], page: int, limit: int
                    ) -> tuple[list[dict[str, Any]], int]:

    field_name = "doctor" if user.get("role") == "doctor" else "patient"
    items, total = store.list_for(field_name, user["_id"], list(statuses), (page - 1) * limit, limit)
    return [appointment_to_api(a, full=False) for a in items], total


def read_one(user: Mapping[str, Any], appointment_id: str) -> dict[str, Any]:
    """Participants and admins only; anyone else gets 404 (D-08). Doctors' and admins' reads of
    a patient's appointment are audited."""

    appt = store.get(object_id(appointment_id, "Appointment"))
    role = participant_role(appt, user["_id"]) if appt else None
    if appt is None or (role is None and user.get("role") != "admin"):
        raise NotFound("Appointment not found")
    if role != "patient":
        audit.record(user, "read", "appointment", appt["_id"], subject_id=appt["patient"])
    return appointment_to_api(appt)


def transition(user: Mapping[str, Any], appointment_id: str, action: str, reason: str = "") -> Outcome:
    """confirm / complete / no_show / cancel: one conditional update (auth read + this = 2 round
    trips). Only when it matches nothing is the appointment read, to say why."""

    settings, now = get_settings(), clock.now()
    oid = object_id(appointment_id, "Appointment")
    role = "doctor" if user.get("role") == "doctor" else "patient" if user.get("role") == "patient" else None
    rule = TRANSITIONS[action]
    updated = None
    if role in rule.roles:
        entry = history_entry(rule.target, user, str(role), now, reason=reason or None)
        changes: dict[str, Any] = {"status": rule.target, "updatedAt": now}
        if rule.target == CANCELLED:
            changes.update({"slotKey": released_key(oid), "patientSlotKey": released_key(oid),
                            "cancellation": {"by": user["_id"], "role": role, "reason": reason, "at": now}})
        query = transition_filter(oid, rule, str(role), user["_id"], now=now,
                                  cancel_cutoff_minutes=settings.cancel_cutoff_minutes)
        updated = store.apply_transition(query, changes, entry)
    if updated is None:
        current = store.get(oid)
        actual_role = participant_role(current, user["_id"]) if current else None
        if current is None or (actual_role is None and user.get("role") != "admin"):
            raise NotFound("Appointment not found")
        check_transition(current, action, actual_role, now=now, cancel_cutoff_minutes=settings.cancel_cutoff_minutes)
        raise Conflict("The appointment changed meanwhile; try again", code="ILLEGAL_TRANSITION")
    notices: list[tuple[str, Recipient | None]] = []
    if rule.target in (CONFIRMED, CANCELLED):
        parties = updated.get("parties") or {}
        notices = [(rule.target, recipient_of(parties.get("patient"), updated["patient"])),
                   (rule.target, recipient_of(parties.get("doctor"), updated["doctor"]))]
        notices = [_fresh(kind, r, user) for kind, r in notices]
    return Outcome(updated, notices, reminders="disarm" if rule.target == CANCELLED else None)


def _fresh(kind: str, recipient: Recipient | None, caller: Mapping[str, Any]) -> tuple[str, Recipient | None]:
    """The caller's own contact is current (just read by the guard); the other party's comes
    from the appointment's snapshot."""
    if recipient is not None and recipient.user_id == caller.get("_id"):
        return kind, recipient_of(caller, caller["_id"]) or recipient
    return kind, recipient


def reschedule(user: Mapping[str, Any], appointment_id: str, day_text: str, time_text: str) -> Outcome:
    """Move to another offered slot. One update of the appointment swaps its slot keys, so the
    new slot is claimed and the old one released in the same atomic write; if the new slot is
    taken, nothing changes (409)."""

    settings, now = get_settings(), clock.now()
    oid = object_id(appointment_id, "Appointment")
    appt = store.get(oid)
    role = participant_role(appt, user["_id"]) if appt else None
    if appt is None or role is None:
        raise NotFound("Appointment not found")
    if appt.get("status") not in ACTIVE:
        raise Conflict(f"Cannot reschedule an appointment that is {appt.get('status')}", code="ILLEGAL_TRANSITION")
    old_start = _aware(appt["start"])
    if role == "patient":
        check_patient_cutoff(old_start, now, settings.cancel_cutoff_minutes)
    day, label = parse_day(day_text), normalize_time(time_text)
    doctor = _approved_doctor(appt["doctor"])
    av, tz = availability_from_doc(doctor.get("availability")), doctor_timezone(doctor)
    if not doctor_accepting(doctor, av):
        raise Unprocessable("This doctor is not accepting bookings", code="NOT_ACCEPTING")
    slot = check_bookable(day, label, tz, av, now=now, time_off=time_off_intervals(doctor))
    if slot.start == old_start:
        raise Unprocessable("The appointment is already at this time", code="SAME_SLOT")
    status = PENDING if role == "patient" else str(appt["status"])
    changes = {
        "day": day.isoformat(), "time": label, "timezone": tz.key, "start": slot.start, "end": slot.end,
        "durationMinutes": av.slot_minutes, "status": status,
        "slotKey": slot_key(appt["doctor"], slot.start), "patientSlotKey": slot_key(appt["patient"], slot.start),
        "reminderOffsets": reminder_offsets(slot.start, settings.reminder_offsets_minutes, now),
        "remindersSent": {}, "updatedAt": now,
    }
    entry = history_entry(status, user, role, now, action="reschedule", fromDay=appt.get("day"),
                          fromTime=appt.get("time"))
    query = {"_id": oid, role: user["_id"], "status": {"$in": list(ACTIVE)}, "start": appt["start"]}
    try:
        updated = store.move(query, changes, entry)
    except store.SlotClash as clash:
        if clash.which == "patient":
            raise Conflict("You already have an appointment at this time", code="PATIENT_BUSY") from None
        raise Conflict("This time slot is already booked", code="SLOT_TAKEN") from None
    if updated is None:
        raise Conflict("The appointment changed meanwhile; try again", code="ILLEGAL_TRANSITION")
    parties = updated.get("parties") or {}
    notices = [_fresh("rescheduled", recipient_of(parties.get("patient"), updated["patient"]), user),
               _fresh("rescheduled", recipient_of(parties.get("doctor"), updated["doctor"]), user)]
    return Outcome(updated, notices, reminders="rearm", previous_start=old_start)


# ================================================================ side effects after the commit


def after_commit(outcome: Outcome) -> None:
    """Reminders and notifications once the write is durable. Nothing here can fail the request:
    the Scheduler adapter and the notifier log and record their failures (the sweeper retries)."""
    appt, settings = outcome.appointment, get_settings()
    planned = list(appt.get("reminderOffsets", []))
    if outcome.reminders == "arm":
        reminders.arm(appt["_id"], _aware(appt["start"]), planned)
    elif outcome.reminders == "rearm":
        reminders.disarm(appt["_id"], set(settings.reminder_offsets_minutes) - set(planned))
        reminders.arm(appt["_id"], _aware(appt["start"]), planned)
    elif outcome.reminders == "disarm":
        reminders.disarm(appt["_id"], {*settings.reminder_offsets_minutes, *planned})
    for kind, recipient in outcome.notices:
        if recipient is None:
            continue
        subject, text = notification_text(kind, appt["_id"], _aware(appt["start"]), recipient.timezone,
                                          settings.app_base_url, outcome.previous_start)
        notify.send(recipient.contact_type, recipient.contact, subject, text, kind=kind, ref=appt["_id"])


def send_reminder(event: Mapping[str, Any]) -> dict[str, Any]:
    """The `send_reminder` Lambda: `{appointmentId, offset}` from the Scheduler (or the sweeper).
    Sends only while the appointment is pending/confirmed and that reminder is due, and at most
    once per offset and start: the sent mark is set by a conditional update before sending."""

    oid = maybe_object_id(event.get("appointmentId"))
    try:
        offset = int(event.get("offset"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        offset = -1
    if oid is None or offset <= 0:
        return {"sent": False, "reason": "invalid input"}
    now = clock.now()
    longer = [o for o in get_settings().reminder_offsets_minutes if o > offset]
    appt = store.claim_reminder(oid, offset, now, ACTIVE, REMINDER_EARLY_TOLERANCE, longer)
    if appt is None:
        return {"sent": False, "reason": "not due, already sent, or no longer active"}
    people = store.users_by_id([appt["patient"], appt["doctor"]])
    parties = appt.get("parties") or {}
    base_url = get_settings().app_base_url
    delivered = 0
    for who in ("patient", "doctor"):
        recipient = recipient_of(people.get(appt[who]) or parties.get(who), appt[who])
        if recipient is None:
            continue
        subject, text = notification_text("reminder", appt["_id"], _aware(appt["start"]), recipient.timezone, base_url)
        delivered += notify.send(recipient.contact_type, recipient.contact, subject, text, kind="reminder",
                                 ref=appt["_id"])
    return {"sent": True, "delivered": delivered}


def sweep(now: datetime | None = None) -> dict[str, int]:
    """Safety net every 5 minutes: reminders that are due (by more than a short grace, so the
    Scheduler goes first) but unsent, and notifications that failed earlier."""

    now = now or clock.now()
    offsets = get_settings().reminder_offsets_minutes
    horizon = now + timedelta(minutes=max(offsets, default=0)) + REMINDER_EARLY_TOLERANCE
    sent = 0
    for appt in store.upcoming_active(now, horizon, ACTIVE):
        start = _aware(appt["start"])
        done = appt.get("remindersSent") or {}
        due = [o for o in appt.get("reminderOffsets", [])
               if str(o) not in done and start - timedelta(minutes=o) <= now - SWEEP_GRACE]
        if due:  # only the nearest one: it supersedes longer reminders that were missed
            sent += bool(send_reminder({"appointmentId": str(appt["_id"]), "offset": min(due)}).get("sent"))
    retried = notify.retry_due(now)
    return {"reminders": sent, **retried}
