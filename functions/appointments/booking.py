"""Booking: POST /appointment/new.

The claims decide races (`claims.claim_booking`): of any bookings whose times overlap, exactly one
gets its claims in. Round trips (the guard's user read included): 5 (the user and the doctor in one
read, the patient's limit seats, one `insert_many` of seats and claims, the insert, the effects'
record in the outbox; one more per seat taken over from an ended appointment, and per retry when a
concurrent booking of the same patient took the seat chosen; one more with an `Idempotency-Key`:
its claim).

Failure-atomic (`core.compensation`): the steps are the Idempotency-Key claim, the claim cells
and limit seats, and the appointment insert; any exception after the first write undoes them
newest first (the appointment deleted by the id the booking chose, then its claims released by
that id, then the key released so a retry can book). The claims are released only once the
appointment is known to be gone: a failed delete leaves a stored appointment that holds its
claims, never one without them. What a compensation could not undo (the Lambda died) is the
repair sweep's (`repair`). The notices and reminders run after the block and never fail it.
"""

from __future__ import annotations

import json
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
from functions.appointments.views import appointment_to_api, party_snapshot
from functions.core import clock, idempotency, metrics
from functions.core.compensation import Compensations
from functions.core.config import get_settings
from functions.core.db import object_id
from functions.core.errors import Code, Conflict, Unprocessable
from functions.core.metrics import Metric
from functions.core.observability import logger
from functions.core.security import PATIENT, Principal

SCOPE = "booking"  # of its Idempotency-Key claims


def named_doctor(raw: bytes | str | None) -> tuple[ObjectId, ...]:
    """The doctor a booking's body names, before the body is validated, so that the guard reads
    the doctor with the caller in one round trip (`require_user(also=...)`; issue 20). Nothing
    when the body does not name one well: the validation says why after authentication, as before."""
    try:
        data = json.loads(raw or b"")
    except (ValueError, TypeError):
        return ()
    doctor = data.get("doctor") if isinstance(data, dict) else None
    return (ObjectId(doctor),) if isinstance(doctor, str) and ObjectId.is_valid(doctor) else ()


def replay(earlier: dict[str, Any], fingerprint: str) -> dict[str, Any]:
    """The answer to a retry whose key was claimed before: the stored appointment (no effects
    again), 422 for another body under that key, 409 while the first request is still running."""
    stored = store.get(idempotency.resource_of(earlier, fingerprint))
    if stored is None:
        raise Conflict("The first request with this Idempotency-Key is still running; retry shortly",
                       code=Code.REQUEST_IN_PROGRESS)
    return appointment_to_api(stored)


def book(patient: Principal, body: BookingIn, idempotency_key: str | None = None) -> dict[str, Any]:
    """POST /appointment/new, optionally with an `Idempotency-Key`: a retry with the same key
    and body answers the appointment the first one stored and books nothing more."""
    appointment_id = ObjectId()
    if not idempotency_key:
        return _book(patient, body, appointment_id)
    fingerprint = idempotency.fingerprint(body.model_dump(mode="json"))
    key = idempotency_key
    with Compensations("book: idempotency key") as undo:
        undo.step("claim the Idempotency-Key", lambda: idempotency.release(SCOPE, patient.id, key, appointment_id))
        earlier = idempotency.claim(SCOPE, patient.id, key, appointment_id, fingerprint, clock.now())
    if earlier is not None:
        return replay(earlier, fingerprint)
    try:
        return _book(patient, body, appointment_id)
    except Exception:  # not booked (its own compensations ran): a retry with the key may try again
        try:
            idempotency.release(SCOPE, patient.id, key, appointment_id)
        except Exception as exc:
            logger.warning("Idempotency-Key left claimed", extra={"error": type(exc).__name__})
        raise


@commits
def _book(patient: Principal, body: BookingIn, appointment_id: ObjectId) -> Outcome:
    """The booking. The claims decide races: of any bookings whose times overlap (for
    the doctor, buffer included, or for the patient), exactly one gets its claims in. The booking
    is confirmed at once, or `pending` when the doctor requires confirmation (`status`), and
    keeps that setting (`requiresConfirmation`) for its payment, where one is required."""
    settings, now = get_settings(), clock.now()
    doctor_id = object_id(body.doctor, "Doctor")
    if doctor_id == patient.id:
        raise Unprocessable("You cannot book an appointment with yourself", code=Code.SELF_BOOKING)
    day, label = parse_day(body.day, now), normalize_time(body.time)
    doctor = listed_doctor(doctor_id, patient.others)  # read with the caller (`named_doctor`)
    av, tz = bookable(doctor)
    slot: Slot = check_bookable(day, label, tz, av, now=now, time_off=time_off_intervals(doctor))
    status = booked_status(av.requires_confirmation)
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
    _write(patient, doctor_id, appointment_id, slot, av.buffer_minutes, doc, now)
    metrics.count(Metric.APPOINTMENT_BOOKED)
    if held is not None:
        return Outcome(doc)
    to_patient, to_doctor = booking_kinds(status)
    notices = [(to_patient, recipient_of(patient.user, patient.id)), (to_doctor, recipient_of(doctor, doctor_id))]
    return Outcome(doc, notices, Reminders.ARM)


def _write(patient: Principal, doctor_id: ObjectId, appointment_id: ObjectId, slot: Slot, buffer_minutes: int,
           doc: dict[str, Any], now: Any) -> None:
    """The booking's writes, failure-atomic (see the module's docstring)."""
    written = claims.ClaimedInsert(appointment_id, str(appointment_id))
    with Compensations("book") as undo:
        undo.step("claim cells and limit seats", written.release_claims)
        claims.claim_booking(patient.id, doctor_id, appointment_id, slot.start, slot.end, buffer_minutes, now)
        undo.step("insert the appointment", written.delete_appointment)
        written.insert(doc)
