"""Booking: POST /appointment/new.

The claims decide races (`claims.claim_booking`): of any bookings whose times overlap, exactly
one gets its claims in. Round trips (the guard's user read included, messages and reminders
not): 5 (user, doctor, the patient's limit seats, one `insert_many` of seats and claims, the
insert; one more per seat taken over from an ended appointment, and per retry when a concurrent
booking of the same patient took the seat chosen).
"""

from __future__ import annotations

from typing import Any

from bson import ObjectId

from functions.appointments import claims, holds
from functions.appointments.effects import Outcome, Reminders, commits
from functions.appointments.grid import (
    Slot,
    check_bookable,
    normalize_time,
    parse_day,
    reminder_offsets,
    room_id,
    slot_key,
    time_off_intervals,
)
from functions.appointments.messages import booking_kinds, recipient_of
from functions.appointments.schemas import BookingIn
from functions.appointments.slots import bookable, listed_doctor
from functions.appointments.status import PENDING_PAYMENT, booked_status, history_entry
from functions.appointments.stores import appointments as store
from functions.appointments.views import party_snapshot
from functions.core import clock
from functions.core.config import get_settings
from functions.core.db import object_id
from functions.core.errors import Code, PatientBusy, SlotTaken, Unprocessable
from functions.core.security import PATIENT, Principal


@commits
def book(patient: Principal, body: BookingIn) -> Outcome:
    """POST /appointment/new. The claims decide races: of any bookings whose times overlap (for
    the doctor, buffer included, or for the patient), exactly one gets its claims in. The booking
    is confirmed at once, or `pending` when the doctor requires confirmation (`status`), and
    keeps that setting (`requiresConfirmation`) for its payment, where one is required."""
    settings, now = get_settings(), clock.now()
    doctor_id = object_id(body.doctor, "Doctor")
    if doctor_id == patient.id:
        raise Unprocessable("You cannot book an appointment with yourself", code=Code.SELF_BOOKING)
    day, label = parse_day(body.day, now), normalize_time(body.time)
    doctor = listed_doctor(doctor_id)
    av, tz = bookable(doctor)
    slot: Slot = check_bookable(day, label, tz, av, now=now, time_off=time_off_intervals(doctor))
    appointment_id = ObjectId()
    status = booked_status(av.requires_confirmation)
    claims.claim_booking(patient.id, doctor_id, appointment_id, slot.start, slot.end, av.buffer_minutes, now)
    doc: dict[str, Any] = {
        "_id": appointment_id,
        "patient": patient.id,
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
        "statusHistory": [history_entry(status, patient.id, PATIENT, now, action="book")],
        "requiresConfirmation": av.requires_confirmation,
        "roomId": room_id(),
        "slotKey": slot_key(doctor_id, slot.start),
        "patientSlotKey": slot_key(patient.id, slot.start),
        "parties": {"patient": party_snapshot(patient.user, doctor=False),
                    "doctor": party_snapshot(doctor, doctor=True)},
        "reminderOffsets": reminder_offsets(slot.start, settings.reminder_offsets_minutes, now),
        "remindersSent": {},
        "createdAt": now,
        "updatedAt": now,
    }
    if body.aiSuggestions:
        doc["aiSuggestions"] = body.aiSuggestions  # D-46 (the reference dropped them): stored
    held = holds.hold(now)
    if held is not None:  # unpaid: the notices and reminders wait for the payment (`holds.record_payment`)
        doc.update(held, statusHistory=[history_entry(PENDING_PAYMENT, patient.id, PATIENT, now, action="book")])
    clash = store.insert_appointment(doc)
    if clash:
        claims.release_hold(appointment_id, str(appointment_id))
        if clash == "slot":
            raise SlotTaken()
        raise PatientBusy()
    if held is not None:
        return Outcome(doc)
    to_patient, to_doctor = booking_kinds(status)
    notices = [(to_patient, recipient_of(patient.user, patient.id)), (to_doctor, recipient_of(doctor, doctor_id))]
    return Outcome(doc, notices, Reminders.ARM)
