"""POST /prescription/new: who may write, against which appointment, and what gets stored."""

import re

import pytest
from bson import ObjectId

from tests.appointments_support import sent_emails
from tests.factories import make_user
from tests.prescriptions_support import FIVE_MEDICINES, appointment, body, doctor, issue, patient, payload, post

NUMBER = re.compile(r"^RX\d{6}\d{4,}$")
CODE = re.compile(r"^[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{4}-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{4}-"
                  r"[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{4}$")


def test_a_doctor_prescribes_for_their_confirmed_appointment(api, db):
    # Given a doctor with a confirmed appointment with a patient
    the_doctor, the_patient = doctor(speciality="Pulmonology"), patient()
    appt = appointment(the_doctor, the_patient)
    # When the doctor writes a prescription for it
    response = post(api, the_doctor, "/prescription/new", payload(appt))
    # Then it is created with a number, a verification code, 30 days of validity and the parties named
    assert response.status_code == 201
    rx = body(response)["prescription"]
    assert NUMBER.match(rx["prescriptionNumber"]) and rx["prescriptionNumber"].startswith("RX260302")
    assert CODE.match(rx["verificationCode"])
    assert rx["status"] == "active"
    assert rx["issuedAt"] == "2026-03-02T10:00:00.000Z" and rx["validUntil"] == "2026-04-01T10:00:00.000Z"
    assert rx["doctor"] == {"_id": str(the_doctor["_id"]), "name": the_doctor["name"], "speciality": "Pulmonology"}
    assert rx["patient"] == {"_id": str(the_patient["_id"]), "name": the_patient["name"],
                             "contact": the_patient["contact"]}
    assert [m["name"] for m in rx["medications"]] == [m["name"] for m in FIVE_MEDICINES]
    assert rx["medications"][3]["remaining"] == 28  # 14 units, one refill
    stored = db["prescriptions"].find_one({"_id": ObjectId(rx["_id"])})
    assert stored["appointment"] == appt["_id"] and stored["doctor"] == the_doctor["_id"]


def test_the_patient_is_told_a_prescription_is_waiting_without_any_medical_detail(api):
    # Given a patient who signed up with an e-mail address
    the_doctor, the_patient = doctor(), patient()
    # When a prescription is issued to them
    issue(api, the_doctor, the_patient)
    # Then they get one e-mail that names no medicine, diagnosis or symptom
    mails = [m for m in sent_emails() if the_patient["contact"] in m.destinations["ToAddresses"]]
    assert len(mails) == 1
    text = (mails[0].subject + mails[0].body).lower()
    assert "prescription is available" in text
    for secret in ("amoxicillin", "bronchitis", "cough", "fever"):
        assert secret not in text


def test_numbers_follow_each_other_within_a_day(api):
    # Given one doctor and two patients
    the_doctor = doctor()
    # When two prescriptions are written the same day
    first = issue(api, the_doctor, patient())["prescriptionNumber"]
    second = issue(api, the_doctor, patient())["prescriptionNumber"]
    # Then the second has the next number
    assert int(second[8:]) == int(first[8:]) + 1


def test_issuing_is_audited(api, db):
    # Given a prescription just written
    the_doctor = doctor()
    rx = issue(api, the_doctor, patient())
    # Then the audit log names the doctor and the patient
    entry = db["audit_log"].find_one({"resourceType": "prescription", "action": "create"})
    assert entry["actorId"] == the_doctor["_id"] and str(entry["resourceId"]) == rx["_id"]


# ---------------------------------------------------------------- the appointment must match (D-14)


def test_another_doctors_appointment_is_not_found(api, db):
    # Given an appointment between doctor A and a patient
    appt = appointment(doctor(), patient())
    # When doctor B tries to prescribe against it
    response = post(api, doctor(), "/prescription/new", payload(appt))
    # Then it is as if it did not exist, and nothing is stored
    assert response.status_code == 404
    assert db["prescriptions"].count_documents({}) == 0


def test_an_unknown_appointment_is_not_found(api):
    # Given a doctor and a made-up appointment id
    the_doctor, the_patient = doctor(), patient()
    data = payload({"_id": "0" * 24, "patient": the_patient["_id"]})
    # When they prescribe against it
    response = post(api, the_doctor, "/prescription/new", data)
    # Then 404
    assert response.status_code == 404


def test_a_patient_id_that_is_not_the_appointments_patient_is_refused(api, db):
    # Given the doctor's appointment with patient P
    the_doctor = doctor()
    appt = appointment(the_doctor, patient())
    # When the body names another patient
    response = post(api, the_doctor, "/prescription/new", payload(appt, patientId=str(patient()["_id"])))
    # Then 422 naming the field, and nothing is stored
    assert response.status_code == 422
    assert body(response)["code"] == "APPOINTMENT_MISMATCH"
    assert body(response)["errors"][0]["field"] == "patientId"
    assert db["prescriptions"].count_documents({}) == 0


@pytest.mark.parametrize("status", ["pending", "cancelled", "no_show"])
def test_only_confirmed_or_completed_appointments_take_prescriptions(api, status):
    # Given the doctor's appointment in a status that is not confirmed or completed
    the_doctor = doctor()
    appt = appointment(the_doctor, patient(), status=status)
    # When they prescribe against it
    response = post(api, the_doctor, "/prescription/new", payload(appt))
    # Then 422
    assert response.status_code == 422
    assert body(response)["code"] == "APPOINTMENT_NOT_ELIGIBLE"


def test_a_completed_appointment_takes_a_prescription(api):
    # Given a completed appointment
    the_doctor = doctor()
    appt = appointment(the_doctor, patient(), status="completed")
    # When the doctor prescribes
    response = post(api, the_doctor, "/prescription/new", payload(appt))
    # Then it is created
    assert response.status_code == 201


@pytest.mark.parametrize("role", ["patient", "pharmacist", "admin"])
def test_only_doctors_prescribe(api, role):
    # Given someone who is not a doctor and an appointment
    appt = appointment(doctor(), patient())
    # When they post a prescription
    response = post(api, make_user(role), "/prescription/new", payload(appt))
    # Then 403
    assert response.status_code == 403


def test_a_doctor_awaiting_approval_cannot_prescribe(api):
    # Given a doctor not yet approved, with an appointment
    pending = doctor(approvalStatus="pending")
    appt = appointment(pending, patient())
    # When they prescribe
    response = post(api, pending, "/prescription/new", payload(appt))
    # Then 403
    assert response.status_code == 403
    assert body(response)["code"] == "APPROVAL_REQUIRED"


# ---------------------------------------------------------------- the body


@pytest.mark.parametrize(("change", "field"), [
    ({"medications": []}, "medications"),
    ({"medications": FIVE_MEDICINES * 4 + FIVE_MEDICINES[:1]}, "medications"),
    ({"medications": [{**FIVE_MEDICINES[0], "refills": 6}]}, "medications.0.refills"),
    ({"medications": [{**FIVE_MEDICINES[0], "quantity": 0}]}, "medications.0.quantity"),
    ({"medications": [{"name": "Aspirin", "dosage": "1 tablet"}]}, "medications.0.frequency"),
    ({"medications": [{**FIVE_MEDICINES[0], "price": 1}]}, "medications.0.price"),
    ({"diagnosis": "x" * 1001}, "diagnosis"),
    ({"notes": "x" * 2001}, "notes"),
    ({"status": "revoked"}, "status"),
    ({"prescriptionNumber": "RX1"}, "prescriptionNumber"),
    ({"appointmentId": "nope"}, "appointmentId"),
])
def test_invalid_bodies_are_400_naming_the_field(api, change, field):
    # Given a doctor's valid appointment
    the_doctor = doctor()
    appt = appointment(the_doctor, patient())
    # When the body breaks one rule
    response = post(api, the_doctor, "/prescription/new", payload(appt, **change))
    # Then 400 names the field
    assert response.status_code == 400
    assert field in [e["field"] for e in body(response)["errors"]]


def test_the_frontends_body_without_the_new_fields_is_accepted(api):
    # Given the reference frontend's body: medications with only name, dosage, frequency, duration, instructions
    the_doctor = doctor()
    appt = appointment(the_doctor, patient())
    meds = [{"name": "Azithromycin", "dosage": "500mg", "frequency": "once daily", "duration": "3 days",
             "instructions": "after food"}]
    # When it is posted
    response = post(api, the_doctor, "/prescription/new", payload(appt, medications=meds, symptoms="", notes=""))
    # Then the prescription is created with the defaults (no refills)
    assert response.status_code == 201
    assert body(response)["prescription"]["medications"][0]["refills"] == 0
