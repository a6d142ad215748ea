"""A doctor's writes: issuing a prescription against one of their appointments (the patient is
told, without PHI) and revoking an active one. Both are audited."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from bson import ObjectId

from functions.appointments import api as appointments
from functions.core import audit, clock, notify
from functions.core.config import get_settings
from functions.core.db import object_id
from functions.core.errors import Code, NotFound, Unprocessable
from functions.core.security import Principal
from functions.prescriptions import access, lines, numbers, views
from functions.prescriptions.reading import RESOURCE, people_of
from functions.prescriptions.schemas import PrescriptionIn, RevokeIn
from functions.prescriptions.status import ACTIVE, REVOKED
from functions.prescriptions.stores import counters
from functions.prescriptions.stores import prescriptions as store

_CODE_ATTEMPTS = 5


def create(doctor: Principal, body: PrescriptionIn) -> dict[str, Any]:
    """Issue a prescription against one of this doctor's confirmed or completed appointments
    with this patient; the patient gets a PHI-free notification."""
    appointment_id = object_id(body.appointmentId, "Appointment")
    patient_id = object_id(body.patientId, "Patient")
    access.check_appointment(appointments.get(appointment_id), doctor.id, patient_id)
    settings, now = get_settings(), clock.now()
    medications = [{"_id": ObjectId(), **med.model_dump()} for med in body.medications]
    doc: dict[str, Any] = {
        "patient": patient_id,
        "doctor": doctor.id,
        "appointment": appointment_id,
        "diagnosis": body.diagnosis,
        "symptoms": body.symptoms,
        "notes": body.notes,
        "followUpInstructions": body.followUpInstructions,
        "medications": medications,
        "remaining": {lines.med_key(i): lines.allowance(med) for i, med in enumerate(medications)},
        "pharmacistIds": [],
        "status": ACTIVE,
        "issuedAt": now,
        "validUntil": now + timedelta(days=settings.prescription_valid_days),
        "createdAt": now,
        "updatedAt": now,
    }
    day = numbers.day_key(now, settings.default_timezone)
    doc["prescriptionNumber"] = numbers.prescription_number(day, counters.next_sequence(day))
    for _ in range(_CODE_ATTEMPTS):  # a code collision is a 1-in-2^59 event; the unique index decides
        doc["_id"], doc["verificationCode"] = ObjectId(), numbers.new_code()
        if store.insert(doc):
            break
    else:
        raise RuntimeError("could not allocate a unique prescription number and code")
    audit.record(doctor.user, "create", RESOURCE, doc["_id"], subject_id=patient_id)
    people = people_of(doc)
    _notify_patient(people.get(patient_id), doc["_id"])
    return views.to_api(doc, people, now, full=True, patient_contact=True)


def _notify_patient(patient: Mapping[str, Any] | None, rx_id: ObjectId) -> None:
    """No PHI: neither the medicines nor the diagnosis, only that something is waiting (D-32)."""
    if not patient or not patient.get("contact"):
        return
    contact = str(patient["contact"])
    channel = str(patient.get("contactType") or ("email" if "@" in contact else "phone"))
    link = get_settings().app_url("prescriptions")
    notify.send(channel, contact, "CureConnect: a new prescription is available",
                f"CureConnect: a new prescription is available in your account. View it: {link}",
                kind="prescription_issued", ref=rx_id)


def revoke(doctor: Principal, rx_id: str, body: RevokeIn) -> dict[str, Any]:
    """The author withdraws an active prescription; verification then answers `revoked`."""
    oid = object_id(rx_id, "Prescription")
    now = clock.now()
    updated = store.revoke(oid, doctor.id, {"status": REVOKED, "revokedAt": now,
                                            "revokeReason": body.reason, "updatedAt": now})
    if updated is None:
        current = store.get(oid)
        if current is None or current["doctor"] != doctor.id:
            raise NotFound.of("Prescription")
        raise Unprocessable("Only an active prescription can be revoked", code=Code.PRESCRIPTION_NOT_ACTIVE)
    audit.record(doctor.user, "revoke", RESOURCE, oid, reason=body.reason, subject_id=updated["patient"])
    return views.to_api(updated, people_of(updated), now, full=True)
