"""The appointments domain's public seam: the only module other domains import from it.

Each function imports what it delegates to when it is called, so importing this seam costs a
caller's cold start almost nothing and per-route IAM (infra/iam.py) follows only the functions a
route calls. Statuses are the ones `status` defines.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from bson import ObjectId

from functions.appointments.status import CANCELLED, COMPLETED, CONFIRMED, PENDING, PENDING_PAYMENT
from functions.core.ports import Port

__all__ = [
    "CANCELLED",
    "COMPLETED",
    "CONFIRMED",
    "PENDING",
    "PENDING_PAYMENT",
    "REFUNDS",
    "close_for_doctor",
    "close_for_patient",
    "doctor_treats_patient",
    "erase_user",
    "find_by_room",
    "for_export",
    "get",
    "has_upcoming",
    "next_of_pair",
    "record_payment",
    "states",
]

# (kind, appointment id, outcome, intent id): how payments tells appointments a refund went through.
Tell = Callable[[str, ObjectId, str, str], object]
# Payments' refund for a committed cancellation, by its policy (`payments.api.appointment_cancelled`,
# plugged in by the composition root): the refund's status, or None when nothing is refunded.
REFUNDS: Port[[Mapping[str, Any], Tell], str | None] = Port("appointments.REFUNDS")


def get(appointment_id: ObjectId) -> dict[str, Any] | None:
    """The whole appointment document, or None."""
    from functions.appointments.stores import appointments as store

    return store.get(appointment_id)


def find_by_room(room_id: str) -> dict[str, Any] | None:
    """The appointment whose video/chat room is `room_id`: participants, status, times."""
    from functions.appointments.stores import appointments as store

    return store.find_by_room(room_id)


def next_of_pair(doctor_id: ObjectId, patient_id: ObjectId, status: str, now: datetime) -> dict[str, Any] | None:
    """The pair's appointment in `status` in progress or next (as `find_by_room` returns it)."""
    from functions.appointments.stores import appointments as store

    return store.next_of_pair(doctor_id, patient_id, status, now)


def doctor_treats_patient(doctor_id: Any, patient_id: Any) -> bool:
    """May this doctor see this patient's record? While they share an appointment that makes a
    care relationship (`status.CARE`: not cancelled, not a hold waiting for its payment)."""
    from functions.appointments.status import CARE
    from functions.appointments.stores import appointments as store

    return store.treats(doctor_id, patient_id, CARE)


def states(ids: Sequence[ObjectId]) -> dict[ObjectId, dict[str, Any]]:
    """Status, start and cancellation of these appointments (one read)."""
    from functions.appointments.stores import appointments as store

    return store.states(ids)


def record_payment(appointment_id: ObjectId, status: str, intent_id: str) -> bool:
    """A payment's outcome (`paid | failed | canceled | refunded`); False when the appointment no
    longer wants the money (see `holds.record_payment`)."""
    from functions.appointments import holds

    return holds.record_payment(appointment_id, status, intent_id)


def for_export(patient_id: ObjectId, cap: int) -> list[dict[str, Any]]:
    """Up to `cap` of the patient's appointments, every status, by start (one read): their data export."""
    from functions.appointments.stores import appointments as store

    return store.list_for("patient", patient_id, [], 0, cap)[0]


def has_upcoming(user_id: ObjectId, field: str, now: datetime) -> bool:
    """Does the patient (`field="patient"`) or doctor (`"doctor"`) have an appointment holding a
    slot that is not over yet? (One read, at most one document.)"""
    from functions.appointments.status import ACTIVE
    from functions.appointments.stores import appointments as store

    items, _ = store.list_now_first(field, user_id, list(ACTIVE), now, 1)
    return any(item["end"] > now for item in items)


def close_for_patient(patient_id: ObjectId, now: datetime) -> dict[str, int]:
    """The patient's account closed: appointments not started cancelled (doctors told, refunds by
    the policy), waitlist offers declined, entries left. Idempotent (see `closing`)."""
    from functions.appointments import closing

    return closing.close_for_patient(patient_id, now)


def close_for_doctor(doctor_id: ObjectId, now: datetime) -> dict[str, int]:
    """The doctor's account closed: the waitlist offers of their slots withdrawn. Idempotent."""
    from functions.appointments import closing

    return closing.close_for_doctor(doctor_id, now)


def erase_user(user_id: ObjectId) -> dict[str, int]:
    """The erase of an account: a patient's appointments and waitlist entries deleted, a doctor's
    name and contact removed from their appointments' snapshots."""
    from functions.appointments import closing

    return closing.erase_user(user_id)
