"""Medical history and the patient record (`/patient/:id/complete-data`): the patient, or an
approved doctor in their care; reads by others are audited."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from bson import ObjectId

from functions.appointments import api as appointments
from functions.auth.schemas import (
    MedicalHistoryIn,
)
from functions.core import audit, clock, users
from functions.core.db import object_id
from functions.core.errors import Code, NotFound, Unprocessable
from functions.core.security import DOCTOR, Principal

T = TypeVar("T")
HISTORY_CAP = 500


def history_view(entries: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """History entries as sent: stored `{_id, analysis, image: {url}, type, createdAt}`, plus the
    `url` beside it that the existing frontend's history cards also read."""
    return [{**e, "url": (e.get("image") or {}).get("url")} for e in entries or []]


def add_history(principal: Principal, body: MedicalHistoryIn) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Append to the caller's own history (at most HISTORY_CAP entries); audited."""
    entry = {"_id": ObjectId(), "analysis": body.analysis, "image": {"url": body.url}, "type": body.type,
             "createdAt": clock.now()}
    updated = users.push_history(principal.id, entry, HISTORY_CAP)
    if updated is None:
        raise Unprocessable(f"The medical history already holds {HISTORY_CAP} entries", code=Code.HISTORY_FULL)
    audit.record(principal.user, "create", "medicalHistory", entry["_id"], subject_id=principal.id)
    return history_view([entry])[0], history_view(updated.get("medicalHistory"))


def _patient_in_reach(principal: Principal, user_id: str, what: str) -> tuple[ObjectId, bool]:
    """(patient id, is it the caller): the patient themself, or an approved doctor in their care
    (a non-cancelled appointment). Anyone else gets the same 404 as for a user who does not
    exist, so ids cannot be probed (D-10, D-11)."""
    patient_id = object_id(user_id, what)
    own = patient_id == principal.id
    if not own and not (principal.role == DOCTOR and principal.approved
                        and appointments.doctor_treats_patient(principal.id, patient_id)):
        raise NotFound.of(what)
    return patient_id, own


def _read_patient_data(principal: Principal, user_id: str, what: str, resource: str,
                       load: Callable[[ObjectId], T | None]) -> tuple[ObjectId, T]:
    """Load a patient's data for a caller in reach; reads by anyone but the patient are audited."""
    patient_id, own = _patient_in_reach(principal, user_id, what)
    data = load(patient_id)
    if data is None:
        raise NotFound.of(what)
    if not own:
        audit.record(principal.user, "read", resource, patient_id, subject_id=patient_id)
    return patient_id, data


def get_history(principal: Principal, user_id: str) -> list[dict[str, Any]]:
    """A patient's medical history."""
    return history_view(_read_patient_data(principal, user_id, "Medical history", "medicalHistory",
                                           users.find_history)[1])


def patient_record(principal: Principal, user_id: str) -> dict[str, Any]:
    """The patient summary behind the frontend's QR code (`complete-data`): profile and medical
    history, for the same readers as the history, audited the same way."""
    patient_id, patient = _read_patient_data(principal, user_id, "Patient", "patientRecord", users.find_patient)
    return {"patientId": patient_id, "name": patient.get("name"), "contact": patient.get("contact"),
            "role": patient.get("role"), "avatar": patient.get("avatar"), "createdAt": patient.get("createdAt"),
            "lastUpdated": patient.get("updatedAt"), "isActive": bool(patient.get("active", True)),
            "medicalHistory": history_view(patient.get("medicalHistory")),
            "prescriptions": _prescriptions_of(patient_id)}


def _prescriptions_of(patient_id: ObjectId) -> list[dict[str, Any]]:
    """The prescriptions domain owns that collection (its seam, imported on this path only)."""
    from functions.prescriptions import api as prescriptions

    return prescriptions.for_patient_record(patient_id)
