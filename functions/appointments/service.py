"""Use cases of the appointments domain: what the routes call. Pure Python, no Chalice.

Each use case takes the validated request model, reads and writes through `store`, and (for
writes) returns an `Outcome` whose effects (reminders, notices) `@commits` runs after the
write; routes receive the API view only. The rules themselves live in `grid` (slots and
claims), `status` (the status machine), `messages` and `views`; the reminder Lambda and the
sweeper in `jobs`.

Round trips (the guard's user read included, messages and reminders not): booking 5 (user,
doctor, the patient's limit seats, one `insert_many` of seats and claims, the insert; one more
per seat taken over from an ended appointment, and per retry when a concurrent booking of the
same patient took the seat chosen), cancel 3 (user, the conditional update, one `delete_many`
of claims and seats).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, timedelta
from typing import Any

from bson import ObjectId

from functions.appointments import claims, payment
from functions.appointments.effects import Outcome, Reminders, commits
from functions.appointments.grid import (
    Availability,
    Interval,
    Slot,
    availability_from_doc,
    availability_to_api,
    aware,
    busy_window,
    check_bookable,
    compute_slots,
    doctor_accepting,
    doctor_timezone,
    local_today,
    normalize_time,
    parse_day,
    released_key,
    reminder_offsets,
    room_id,
    slot_key,
    time_off_intervals,
    within_horizon,
)
from functions.appointments.messages import Recipient, booking_kinds, recipient_of
from functions.appointments.schemas import AvailabilityIn, BookingIn, MyQuery, RescheduleIn, TimeOffIn
from functions.appointments.status import (
    ACTIVE,
    CANCELLED,
    CONFIRMED,
    PENDING_PAYMENT,
    TRANSITIONS,
    booked_status,
    check_patient_cutoff,
    check_transition,
    history_entry,
    participant_role,
    rescheduled_status,
    transition_filter,
)
from functions.appointments.stores import appointments as store
from functions.appointments.views import appointment_to_api, party_snapshot
from functions.core import audit, clock, users
from functions.core.config import get_settings
from functions.core.db import object_id
from functions.core.directory import is_listed
from functions.core.errors import Code, Conflict, NotFound, PatientBusy, SlotTaken, Unprocessable

MAX_TIME_OFF_ENTRIES = 100
UNPAGED_LIMIT = 100


# ---------------------------------------------------------------- the doctor's availability


def get_availability(doctor: Mapping[str, Any]) -> dict[str, Any]:
    av = availability_from_doc(doctor.get("availability"))
    tz = doctor_timezone(doctor)
    now = clock.now()
    entries = doctor.get("timeOff") or {}
    upcoming = sorted(
        ({"_id": key, "start": aware(e["start"]), "end": aware(e["end"]), "reason": e.get("reason", "")}
         for key, e in entries.items() if aware(e["end"]) > now),
        key=lambda e: e["start"],
    )
    return {"availability": availability_to_api(av, tz.key), "timeOff": upcoming}


def set_availability(doctor: Mapping[str, Any], body: AvailabilityIn) -> dict[str, Any]:
    """Replaces the setting. Bookings already made keep their claims: a grid change can never
    put a new slot on top of them (the claims refuse it) nor move them."""
    stored = {**body.model_dump(), "updatedAt": clock.now()}
    users.set_availability(doctor["_id"], stored)
    return availability_to_api(availability_from_doc(stored), doctor_timezone(doctor).key)


def add_time_off(doctor: Mapping[str, Any], body: TimeOffIn) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Time off blocks new bookings; appointments already inside it stay until someone acts on
    them, so the doctor is told which ones to reschedule or cancel."""
    tz, now = doctor_timezone(doctor), clock.now()
    start = (body.start if body.start.tzinfo else body.start.replace(tzinfo=tz)).astimezone(UTC)
    end = (body.end if body.end.tzinfo else body.end.replace(tzinfo=tz)).astimezone(UTC)
    if end <= start:
        raise Unprocessable("end must be after start", code=Code.INVALID_RANGE)
    if end <= now:
        raise Unprocessable("This time off is already over", code=Code.INVALID_RANGE)
    if end - start > timedelta(days=366):
        raise Unprocessable("Time off can span at most 366 days", code=Code.INVALID_RANGE)
    existing = doctor.get("timeOff") or {}
    expired = [key for key, e in existing.items() if aware(e["end"]) <= now]
    if len(existing) - len(expired) >= MAX_TIME_OFF_ENTRIES:
        raise Unprocessable(f"At most {MAX_TIME_OFF_ENTRIES} upcoming time-off entries", code=Code.TOO_MANY)
    key = str(ObjectId())
    entry = {"start": start, "end": end, "reason": body.reason, "createdAt": now}
    users.add_time_off(doctor["_id"], key, entry, expired)
    affected = store.overlapping(doctor["_id"], start, end, ACTIVE)
    return {"_id": key, **entry}, affected


def remove_time_off(doctor: Mapping[str, Any], entry_id: str) -> None:
    if not re.fullmatch(r"[0-9a-f]{24}", entry_id or "") or not users.remove_time_off(doctor["_id"], entry_id):
        raise NotFound("Time off not found")


# ---------------------------------------------------------------- slots


def _listed_doctor(doctor_id: Any) -> dict[str, Any]:
    doctor = users.find_doctor(object_id(doctor_id, "Doctor"))
    if doctor is None or not is_listed(doctor):
        raise NotFound("Doctor not found")
    return doctor


def _bookable(doctor: Mapping[str, Any]) -> tuple[Availability, Any]:
    av, tz = availability_from_doc(doctor.get("availability")), doctor_timezone(doctor)
    if not doctor_accepting(doctor, av):
        raise Unprocessable("This doctor is not accepting bookings", code=Code.NOT_ACCEPTING)
    return av, tz


def available_slots(doctor_id: str, day_text: str) -> dict[str, Any]:
    """GET /appointment/slots/:doctorId/:date: two reads (the doctor, the day's appointments)."""
    now = clock.now()
    day = parse_day(day_text, now)
    doctor = _listed_doctor(doctor_id)
    av, tz = availability_from_doc(doctor.get("availability")), doctor_timezone(doctor)
    if not doctor_accepting(doctor, av):
        av = Availability(weekly={}, accepting=False)
    window = busy_window(day, tz, av)
    busy: list[Interval] = []
    if window is not None and av.accepting and within_horizon(day, now, tz, av) and day >= local_today(now, tz):
        busy = [Interval(aware(s), aware(e)) for s, e in store.busy_intervals(doctor["_id"], *window, ACTIVE)]
    slots = compute_slots(day, tz, av, now=now, time_off=time_off_intervals(doctor), busy=busy)
    return {
        "date": day.isoformat(),
        "timezone": tz.key,
        "doctor": {"id": doctor["_id"], "name": doctor.get("name"), "speciality": doctor.get("speciality")},
        "availableSlots": [s.label for s in slots],
        "slots": [s.to_api() for s in slots],
    }


# ---------------------------------------------------------------- notices


def _notices(appt: Mapping[str, Any], kind: str, caller: Mapping[str, Any]) -> list[tuple[str, Recipient | None]]:
    """Both participants; the caller's own contact is current (just read by the guard), the other
    party's comes from the appointment's snapshot."""
    parties = appt.get("parties") or {}
    out: list[tuple[str, Recipient | None]] = []
    for who in ("patient", "doctor"):
        person = caller if appt[who] == caller.get("_id") else parties.get(who)
        out.append((kind, recipient_of(person, appt[who])))
    return out


# ---------------------------------------------------------------- booking and reads


@commits
def book(patient: Mapping[str, Any], body: BookingIn) -> Outcome:
    """POST /appointment/new. The claims decide races: of any bookings whose times overlap (for
    the doctor, buffer included, or for the patient), exactly one gets its claims in. The booking
    is confirmed at once, or `pending` when the doctor requires confirmation (`status`), and
    keeps that setting (`requiresConfirmation`) for its payment, where one is required."""
    settings, now = get_settings(), clock.now()
    doctor_id = object_id(body.doctor, "Doctor")
    if doctor_id == patient["_id"]:
        raise Unprocessable("You cannot book an appointment with yourself", code=Code.SELF_BOOKING)
    day, label = parse_day(body.day, now), normalize_time(body.time)
    doctor = _listed_doctor(doctor_id)
    av, tz = _bookable(doctor)
    slot: Slot = check_bookable(day, label, tz, av, now=now, time_off=time_off_intervals(doctor))
    appointment_id = ObjectId()
    status = booked_status(av.requires_confirmation)
    claims.claim_booking(patient["_id"], doctor_id, appointment_id, slot.start, slot.end, av.buffer_minutes, now)
    doc: dict[str, Any] = {
        "_id": appointment_id,
        "patient": patient["_id"],
        "doctor": doctor_id,
        "description": body.description,
        "symptoms": body.symptoms,
        "day": day.isoformat(),
        "time": label,
        "timezone": tz.key,
        "start": slot.start,
        "end": slot.end,
        "durationMinutes": av.slot_minutes,
        "bufferMinutes": av.buffer_minutes,
        "status": status,
        "statusHistory": [history_entry(status, patient, "patient", now, action="book")],
        "requiresConfirmation": av.requires_confirmation,
        "roomId": room_id(),
        "slotKey": slot_key(doctor_id, slot.start),
        "patientSlotKey": slot_key(patient["_id"], slot.start),
        "parties": {"patient": party_snapshot(patient, doctor=False), "doctor": party_snapshot(doctor, doctor=True)},
        "reminderOffsets": reminder_offsets(slot.start, settings.reminder_offsets_minutes, now),
        "remindersSent": {},
        "createdAt": now,
        "updatedAt": now,
    }
    if body.aiSuggestions:
        doc["aiSuggestions"] = body.aiSuggestions  # D-46 (the reference dropped them): stored
    held = payment.hold(now)
    if held is not None:  # unpaid: the notices and reminders wait for the payment (`payment.record_payment`)
        doc.update(held, statusHistory=[history_entry(PENDING_PAYMENT, patient, "patient", now, action="book")])
    clash = store.insert_appointment(doc)
    if clash:
        claims.release_hold(appointment_id, str(appointment_id))
        if clash == "slot":
            raise SlotTaken()
        raise PatientBusy()
    if held is not None:
        return Outcome(doc)
    to_patient, to_doctor = booking_kinds(status)
    notices = [(to_patient, recipient_of(patient, patient["_id"])), (to_doctor, recipient_of(doctor, doctor_id))]
    return Outcome(doc, notices, Reminders.ARM)


def my_appointments(user: Mapping[str, Any], query: MyQuery) -> tuple[list[dict[str, Any]], int, int, int]:
    """The caller's appointments: (items, total, page, limit). Without `page`/`limit` (the
    existing frontend never pages): up to 100, those not over yet soonest first, then the past
    ones most recent first. The doctor's list carries each patient's current contact (one `$in`
    read) and is audited, since it shows their symptoms."""
    is_doctor = user.get("role") == "doctor"
    field_name = "doctor" if is_doctor else "patient"
    if query.paged:
        items, total = store.list_for(field_name, user["_id"], query.statuses, query.skip, query.limit)
        page, limit = query.page, query.limit
    else:
        items, total = store.list_now_first(field_name, user["_id"], query.statuses, clock.now(), UNPAGED_LIMIT)
        page, limit = 1, UNPAGED_LIMIT
    contacts: dict[Any, str | None] = {}
    if is_doctor and items:
        people = users.users_by_id(list({a["patient"] for a in items}))
        contacts = {pid: person.get("contact") for pid, person in people.items()}
        shown = Counter(a["patient"] for a in items)  # each patient's access log shows the listing
        audit.record_per_subject(user, "list", "appointment", shown,
                                 lambda n: f"{n} appointment{'' if n == 1 else 's'} with symptoms")
    shaped = [appointment_to_api(a, full=False, patient_contact=contacts.get(a["patient"]) if is_doctor else None)
              for a in items]
    return shaped, total, page, limit


def read_one(user: Mapping[str, Any], appointment_id: str) -> dict[str, Any]:
    """Participants and admins only; anyone else gets 404 (D-08: the reference let anyone read
    any appointment). Doctors' and admins' reads of a patient's appointment are audited."""
    appt = store.get(object_id(appointment_id, "Appointment"))
    role = participant_role(appt, user["_id"]) if appt else None
    if appt is None or (role is None and user.get("role") != "admin"):
        raise NotFound("Appointment not found")
    if role != "patient":
        audit.record(user, "read", "appointment", appt["_id"], subject_id=appt["patient"])
    return appointment_to_api(appt)


# ---------------------------------------------------------------- lifecycle


@commits
def transition(user: Mapping[str, Any], appointment_id: str, action: str, reason: str = "") -> Outcome:
    """confirm / complete / no_show / cancel: one conditional update (see `status`), and for a
    cancellation one `delete_many` of its claims. Only when the update matches nothing is the
    appointment read, to say why."""
    settings, now = get_settings(), clock.now()
    oid = object_id(appointment_id, "Appointment")
    role = user.get("role") if user.get("role") in ("doctor", "patient") else None
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
        raise Conflict("The appointment changed at the same moment; look at it again", code=Code.APPOINTMENT_CHANGED)
    if rule.target == CANCELLED:
        claims.release_claims(oid)  # its seats too: they are claims of this appointment
        payment.refund_if_paid(updated)
        return Outcome(updated, _notices(updated, CANCELLED, user), Reminders.DISARM)
    if rule.target not in ACTIVE:  # completed or no-show: no longer counts against the limits
        claims.release_seats(oid)
    return Outcome(updated, _notices(updated, CONFIRMED, user) if rule.target == CONFIRMED else [])


@commits
def reschedule(user: Mapping[str, Any], appointment_id: str, body: RescheduleIn) -> Outcome:
    """Move to another offered slot: claim the new cells this appointment does not hold yet,
    move it by one conditional update (unchanged since it was read, and not changed at the
    moment this request arrived), then release the cells it no longer covers. A refusal at any
    step removes this request's new claims and changes nothing (409). The status stays, except
    that a patient's move waits for a doctor who requires confirmation (`rescheduled_status`)."""
    settings, now = get_settings(), clock.now()
    oid = object_id(appointment_id, "Appointment")
    appt = store.get(oid)
    role = participant_role(appt, user["_id"]) if appt else None
    if appt is None or role is None:
        raise NotFound("Appointment not found")
    if appt.get("status") not in ACTIVE:
        raise Conflict(f"Cannot reschedule an appointment that is {appt.get('status')}",
                       code=Code.ILLEGAL_TRANSITION)
    if aware(appt["updatedAt"]) >= now:
        raise Conflict("The appointment changed at the same moment; look at it again", code=Code.APPOINTMENT_CHANGED)
    old_start = aware(appt["start"])
    if role == "patient":
        check_patient_cutoff(old_start, now, settings.cancel_cutoff_minutes)
    day, label = parse_day(body.day, now), normalize_time(body.time)
    doctor = _listed_doctor(appt["doctor"])
    av, tz = _bookable(doctor)
    slot = check_bookable(day, label, tz, av, now=now, time_off=time_off_intervals(doctor))
    if slot.start == old_start:
        raise Unprocessable("The appointment is already at this time", code=Code.SAME_SLOT)
    claimed = claims.claim_move(appt, slot.start, slot.end, av.buffer_minutes)
    status = rescheduled_status(str(appt["status"]), role, av.requires_confirmation)
    changes = {
        "day": day.isoformat(), "time": label, "timezone": tz.key, "start": slot.start, "end": slot.end,
        "durationMinutes": av.slot_minutes, "bufferMinutes": av.buffer_minutes, "status": status,
        "slotKey": slot_key(appt["doctor"], slot.start), "patientSlotKey": slot_key(appt["patient"], slot.start),
        "reminderOffsets": reminder_offsets(slot.start, settings.reminder_offsets_minutes, now),
        "remindersSent": {}, "updatedAt": now,
    }
    entry = history_entry(status, user, role, now, action="reschedule", fromDay=appt.get("day"),
                          fromTime=appt.get("time"))
    query = {"_id": oid, role: user["_id"], "status": appt["status"], "start": appt["start"],
             "updatedAt": appt["updatedAt"]}
    try:
        updated = store.move(query, changes, entry)
    except store.SlotClash as clash:
        claimed.give_back()
        if clash.which == "patient":
            raise PatientBusy() from None
        raise SlotTaken() from None
    if updated is None:
        claimed.give_back()
        raise Conflict("The appointment changed meanwhile; look at it again", code=Code.APPOINTMENT_CHANGED)
    claimed.settle(slot.end)
    return Outcome(updated, _notices(updated, "rescheduled", user), Reminders.REARM, previous_start=old_start)


# ---------------------------------------------------------------- entry points app.py names

from functions.appointments.jobs import send_reminder as send_reminder  # noqa: E402  (the send_reminder Lambda)
