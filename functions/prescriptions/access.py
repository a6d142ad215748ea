"""Who may read a prescription, and which appointment one may be written against. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from functions.appointments import api as appointments
from functions.core.errors import Code, NotFound, Unprocessable
from functions.core.security import ADMIN, DOCTOR, PATIENT, PHARMACIST

# Appointments a prescription may be written against (D-14: the reference accepted any id).
PRESCRIBABLE_APPOINTMENTS = (appointments.CONFIRMED, appointments.COMPLETED)


def can_read(role: str, user_id: Any, rx: Mapping[str, Any]) -> bool:
    """The patient, the author, admins, and pharmacists who dispensed it (D-11: the reference
    let any doctor read any prescription)."""
    if role == PATIENT:
        return bool(rx["patient"] == user_id)
    if role == DOCTOR:
        return bool(rx["doctor"] == user_id)
    if role == PHARMACIST:
        return user_id in (rx.get("pharmacistIds") or [])
    return role == ADMIN


def check_appointment(appt: Mapping[str, Any] | None, doctor_id: Any, patient_id: Any) -> None:
    """The appointment must be this doctor's (else 404, as if it did not exist), with this
    patient, and confirmed or completed (D-14)."""
    if appt is None or appt.get("doctor") != doctor_id:
        raise NotFound.of("Appointment")
    if appt.get("patient") != patient_id:
        raise Unprocessable("patientId is not the patient of this appointment", code=Code.APPOINTMENT_MISMATCH,
                            errors=[{"field": "patientId", "message": "Not the appointment's patient"}])
    if appt.get("status") not in PRESCRIBABLE_APPOINTMENTS:
        raise Unprocessable("Prescriptions can only be written for confirmed or completed appointments",
                            code=Code.APPOINTMENT_NOT_ELIGIBLE)
