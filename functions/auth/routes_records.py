"""Routes of medical records: the medical history and the patient record
(`/patient/:id/complete-data`)."""

from __future__ import annotations

from chalice.app import Response

from functions.auth import out_schemas, records, schemas
from functions.auth.blueprint import bp, headers
from functions.core.envelope import respond
from functions.core.errors import Code
from functions.core.openapi import describe
from functions.core.security import PATIENT, require_user
from functions.core.validation import parse_body


@bp.route("/medical-history", methods=["POST"])
@describe(response=out_schemas.HistoryAddedAnswer, status=201, errors=(Code.HISTORY_FULL, Code.NOT_FOUND))
def add_medical_history() -> Response:
    """Add an analysis to the patient's own medical history."""
    principal = require_user(headers(), roles=(PATIENT,))
    entry, history = records.add_history(principal, parse_body(bp.current_request, schemas.MedicalHistoryIn))
    return respond(201, message="Medical history added", entry=entry, medicalHistory=history)


@bp.route("/medical-history/{user_id}", methods=["GET"])
@describe(response=out_schemas.HistoryAnswer, errors=(Code.NOT_FOUND,))
def medical_history(user_id: str) -> Response:
    """A patient's medical history (the patient, or a doctor treating them)."""
    principal = require_user(headers(), approved=False)
    return respond(medicalHistory=records.get_history(principal, user_id))


@bp.route("/patient/{patient_id}/complete-data", methods=["GET"])
@describe(response=out_schemas.PatientRecordAnswer, errors=(Code.NOT_FOUND,))
def patient_record(patient_id: str) -> Response:
    """A patient's record: profile, medical history and prescriptions."""
    principal = require_user(headers(), approved=False)
    return respond(data=records.patient_record(principal, patient_id))
