"""Use cases of the prescriptions domain: pure Python, no Chalice import.

Each public function is one use case; the rules they apply are in `rules.py`, the database
statements in `store.py`. Also what the pharmacy calls (through `api`) when an order fills a
prescription: `reserve_for_order` / `release_for_order`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from bson import ObjectId

from functions.appointments import api as appointments
from functions.core import audit, clock, notify, throttle, users
from functions.core.config import get_settings
from functions.core.db import object_id
from functions.core.errors import Code, NotFound, Unprocessable
from functions.core.observability import logger
from functions.core.security import DOCTOR, PATIENT, Principal
from functions.core.throttle import Limit
from functions.prescriptions import rules, store
from functions.prescriptions.rules import RxLine
from functions.prescriptions.schemas import ListQuery, PrescriptionIn, RevokeIn

__all__ = ["RxLine", "create", "list_mine", "pdf", "read_one", "release_for_order", "reserve_for_order",
           "revoke", "verify"]

RESOURCE = "prescription"
_CODE_ATTEMPTS = 5


def _people(*docs: Mapping[str, Any]) -> dict[Any, dict[str, Any]]:
    return users.people_by_ids(rules.related_user_ids(docs))


# ---------------------------------------------------------------- writing


def create(doctor: Principal, body: PrescriptionIn) -> dict[str, Any]:
    """Issue a prescription against one of this doctor's confirmed or completed appointments
    with this patient; the patient gets a PHI-free notification."""
    appointment_id = object_id(body.appointmentId, "Appointment")
    patient_id = object_id(body.patientId, "Patient")
    rules.check_appointment(appointments.get(appointment_id), doctor.id, patient_id)
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
        "remaining": {rules.med_key(i): rules.allowance(med) for i, med in enumerate(medications)},
        "pharmacistIds": [],
        "status": rules.ACTIVE,
        "issuedAt": now,
        "validUntil": now + timedelta(days=settings.prescription_valid_days),
        "createdAt": now,
        "updatedAt": now,
    }
    day = rules.day_key(now, settings.default_timezone)
    doc["prescriptionNumber"] = rules.prescription_number(day, store.next_sequence(day))
    for _ in range(_CODE_ATTEMPTS):  # a code collision is a 1-in-2^59 event; the unique index decides
        doc["_id"], doc["verificationCode"] = ObjectId(), rules.new_code()
        if store.insert(doc):
            break
    else:
        raise RuntimeError("could not allocate a unique prescription number and code")
    audit.record(doctor.user, "create", RESOURCE, doc["_id"], subject_id=patient_id)
    people = _people(doc)
    _notify_patient(people.get(patient_id), doc["_id"])
    return rules.to_api(doc, people, now, full=True, patient_contact=True)


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
    updated = store.revoke(oid, doctor.id, {"status": rules.REVOKED, "revokedAt": now,
                                            "revokeReason": body.reason, "updatedAt": now})
    if updated is None:
        current = store.get(oid)
        if current is None or current["doctor"] != doctor.id:
            raise NotFound("Prescription not found")
        raise Unprocessable("Only an active prescription can be revoked", code=Code.PRESCRIPTION_NOT_ACTIVE)
    audit.record(doctor.user, "revoke", RESOURCE, oid, reason=body.reason, subject_id=updated["patient"])
    return rules.to_api(updated, _people(updated), now, full=True)


# ---------------------------------------------------------------- reading


def _readable(principal: Principal, rx_id: str) -> dict[str, Any]:
    """The prescription if the caller may read it, else the same 404 as for an unknown id.
    The id may also be an appointment's: the existing frontend asks with that one (the reference
    never found anything), and gets the newest prescription of the appointment. Reads by anyone
    but the patient are audited."""
    oid = object_id(rx_id, "Prescription")
    rx = store.get(oid) or store.latest_for_appointment(oid)
    if rx is None or not rules.can_read(principal.role, principal.id, rx):
        raise NotFound("Prescription not found")
    if principal.role != PATIENT:
        audit.record(principal.user, "read", RESOURCE, rx["_id"], subject_id=rx["patient"])
    return rx


def read_one(principal: Principal, rx_id: str) -> dict[str, Any]:
    rx = _readable(principal, rx_id)
    return rules.to_api(rx, _people(rx), clock.now(), full=True, patient_contact=principal.role in (PATIENT, DOCTOR))


def list_mine(principal: Principal, query: ListQuery) -> tuple[list[dict[str, Any]], int]:
    """A patient's own prescriptions, or those a doctor wrote; newest first; users joined with
    one batched read. Each carries the patient's contact (the frontend's card prints it)."""
    field = "doctor" if principal.role == DOCTOR else "patient"
    items, total = store.list_for(field, principal.id, query.skip, query.limit)
    people = _people(*items)
    now = clock.now()
    return [rules.to_api(rx, people, now, patient_contact=True) for rx in items], total


def for_patient_record(patient_id: ObjectId) -> list[dict[str, Any]]:
    """The patient's latest prescriptions (up to 100) for `GET /patient/:id/complete-data`. The
    caller has already checked the reader may see this patient's record and audited it."""
    items, _ = store.list_for("patient", patient_id, 0, 100)
    people = _people(*items)
    now = clock.now()
    return [rules.to_api(rx, people, now) for rx in items]


def pdf(principal: Principal, rx_id: str) -> tuple[str, bytes]:
    """(file name, PDF bytes). ReportLab is imported here only, on the PDF path."""
    rx = _readable(principal, rx_id)
    people = _people(rx)
    from functions.prescriptions import pdf as rendering

    data = rendering.render(rx, people.get(rx["doctor"]), people.get(rx["patient"]), clock.now())
    return f"prescription-{rx['prescriptionNumber']}.pdf", data


# ---------------------------------------------------------------- public verification


def _count_verify_hit(client_ip: str, now: datetime) -> None:
    """VERIFY_PER_MINUTE checks a minute per client address (`core.throttle`)."""
    throttle.take(Limit("rx-verify", get_settings().verify_per_minute, timedelta(minutes=1),
                        message="Too many verification requests, try again shortly"), client_ip, now)


def verify(code_text: str, client_ip: str) -> dict[str, Any]:
    """Public: is this printed prescription genuine and still valid? Rate-limited per client
    IP; an unknown or malformed code is a 404 with `valid: false`."""
    now = clock.now()
    _count_verify_hit(client_ip or "unknown", now)
    code = rules.normalize_code(code_text)
    rx = store.by_code(code) if code else None
    if rx is None:
        raise NotFound("No prescription has this verification code", extra={"valid": False})
    people = _people(rx)
    return rules.verify_view(rx, people.get(rx["doctor"]), people.get(rx["patient"]), now)


# ---------------------------------------------------------------- for the pharmacy (through `api`)


def reserve_for_order(prescription_id: str, patient_id: ObjectId, pharmacist_id: ObjectId,
                      lines: list[RxLine]) -> None:
    """Consume the ordered quantities from the patient's active, unexpired prescription, all
    lines or none, in one conditional write (so concurrent orders never dispense more than was
    prescribed), and let `pharmacist_id` read the prescription and its PDF from then on.
    Raises `Unprocessable(code=Code.PRESCRIPTION_INVALID)` explaining what is wrong."""
    rx_oid = _rx_id_or_invalid(prescription_id)
    now = clock.now()
    rx = rules.check_dispensable(store.get(rx_oid), patient_id, now)
    takes = rules.plan_takes(rx, lines)
    if store.consume(rx_oid, patient_id, now, takes, pharmacist_id):
        return
    # The write lost a race (or the state changed since the read): explain from a fresh read.
    fresh = rules.check_dispensable(store.get(rx_oid), patient_id, now)
    rules.plan_takes(fresh, lines)
    raise Unprocessable("The prescription changed meanwhile; try again", code=Code.PRESCRIPTION_INVALID)


def release_for_order(prescription_id: str, lines: list[RxLine]) -> None:
    """Give back quantities an order had reserved (order cancelled or never created). Never
    raises for an unknown prescription; never lifts a quantity above what was prescribed."""
    rx_oid = _rx_id_or_invalid(prescription_id)
    rx = store.get(rx_oid)
    if rx is None:
        return
    gives = rules.plan_gives(rx, lines)
    if gives and not store.give_back(rx_oid, gives, clock.now()):
        logger.warning("prescription release refused (would exceed the prescribed quantity)",
                       extra={"prescriptionId": str(rx_oid)})


def _rx_id_or_invalid(prescription_id: str) -> ObjectId:
    try:
        return object_id(prescription_id, "Prescription")
    except NotFound:
        raise Unprocessable("The prescription was not found for this patient", code=Code.PRESCRIPTION_INVALID) from None


# ---------------------------------------------------------------- periodic

