"""Medical history: the patient adds to their own; only they and their treating doctors read it (D-11)."""

import pytest

from functions.auth.records import HISTORY_CAP
from tests.auth_support import body, field_paths
from tests.factories import bearer, make_user
from tests.http import call

ENTRY = {"analysis": "Mild inflammation, no fracture", "url": "https://res.cloudinary.com/cc/xray-1.png",
         "type": "image"}


def _care(db, doctor, patient, status="confirmed"):
    db.appointments.insert_one({"doctor": doctor["_id"], "patient": patient["_id"], "status": status})


def _audit(db):
    return list(db.audit_log.find({}, {"_id": 0, "actorId": 1, "action": 1, "resourceType": 1, "subjectId": 1}))


def test_a_patient_adds_an_entry_and_gets_the_history_back(client, db):
    patient = make_user("patient")
    response = call(client, "POST", "/medical-history", json=ENTRY, headers=bearer(patient))
    assert response.status_code == 201
    payload = body(response)
    assert payload["entry"]["analysis"] == ENTRY["analysis"]
    assert payload["entry"]["image"] == {"url": ENTRY["url"]} and payload["entry"]["type"] == "image"
    assert [e["_id"] for e in payload["medicalHistory"]] == [payload["entry"]["_id"]]
    # The write is in the audit trail of that patient
    assert _audit(db) == [{"actorId": patient["_id"], "action": "create", "resourceType": "medicalHistory",
                           "subjectId": patient["_id"]}]


@pytest.mark.parametrize(("change", "fields"), [
    ({"url": "http://res.cloudinary.com/cc/x.png"}, ["url"]),
    ({"url": "javascript:alert(1)"}, ["url"]),
    ({"url": "https://x.example/" + "a" * 1010}, ["url"]),
    ({"analysis": ""}, ["analysis"]),
    ({"analysis": "a" * 4001}, ["analysis"]),
    ({"analysis": "क" * 2001}, ["analysis"]),  # 6,003 bytes in UTF-8
    ({"type": "audio"}, ["type"]),
    ({"condition": "flu"}, ["condition"]),
])
def test_bad_entries_are_rejected_with_the_field(client, db, change, fields):
    patient = make_user("patient")
    response = call(client, "POST", "/medical-history", json={**ENTRY, **change}, headers=bearer(patient))
    assert response.status_code == 400
    assert field_paths(response) == fields
    assert "medicalHistory" not in db.users.find_one({"_id": patient["_id"]})


def test_the_history_holds_at_most_500_entries(client, db):
    patient = make_user("patient", medicalHistory=[{"analysis": str(i), "image": {"url": "https://x.example/i"}}
                                                   for i in range(HISTORY_CAP - 1)])
    assert call(client, "POST", "/medical-history", json=ENTRY, headers=bearer(patient)).status_code == 201
    full = call(client, "POST", "/medical-history", json=ENTRY, headers=bearer(patient))
    assert full.status_code == 422 and body(full)["code"] == "HISTORY_FULL"
    assert len(db.users.find_one({"_id": patient["_id"]})["medicalHistory"]) == HISTORY_CAP


def test_a_patient_reads_their_own_history_without_an_audit_entry(client, db):
    patient = make_user("patient")
    call(client, "POST", "/medical-history", json=ENTRY, headers=bearer(patient))
    db.audit_log.delete_many({})
    response = call(client, "GET", f"/medical-history/{patient['_id']}", headers=bearer(patient))
    assert response.status_code == 200
    assert [e["analysis"] for e in body(response)["medicalHistory"]] == [ENTRY["analysis"]]
    assert _audit(db) == []


@pytest.mark.parametrize("status", ["pending", "confirmed", "completed"])
def test_a_treating_doctor_reads_it_and_the_read_is_audited(client, db, status):
    patient = make_user("patient", medicalHistory=[{"analysis": "old", "image": {"url": "https://x.example/1"}}])
    doctor = make_user("doctor")
    _care(db, doctor, patient, status)
    response = call(client, "GET", f"/medical-history/{patient['_id']}", headers=bearer(doctor))
    assert response.status_code == 200
    assert body(response)["medicalHistory"][0]["analysis"] == "old"
    assert _audit(db) == [{"actorId": doctor["_id"], "action": "read", "resourceType": "medicalHistory",
                           "subjectId": patient["_id"]}]


def _not_found(response):
    assert response.status_code == 404
    assert body(response)["message"] == "Medical history not found"
    return body(response)


def test_everyone_else_gets_the_same_404_as_for_a_missing_user(client, db):
    patient = make_user("patient", medicalHistory=[{"analysis": "private", "image": {"url": "https://x.example/1"}}])
    outsiders = {
        "doctor without appointment": make_user("doctor"),
        "doctor with cancelled appointment": make_user("doctor"),
        "pending doctor with appointment": make_user("doctor", approved=False),
        "another patient": make_user("patient"),
        "pharmacist": make_user("pharmacist"),
        "admin": make_user("admin"),
    }
    _care(db, outsiders["doctor with cancelled appointment"], patient, "cancelled")
    _care(db, outsiders["pending doctor with appointment"], patient, "confirmed")
    missing = _not_found(call(client, "GET", "/medical-history/0123456789abcdef01234567",
                              headers=bearer(outsiders["doctor without appointment"])))
    for name, user in outsiders.items():
        response = call(client, "GET", f"/medical-history/{patient['_id']}", headers=bearer(user))
        assert _not_found(response) == missing, name
        assert b"private" not in response.body
    _not_found(call(client, "GET", "/medical-history/not-an-id", headers=bearer(patient)))
    assert _audit(db) == []


def test_a_doctor_in_care_of_a_deleted_patient_gets_a_404(client, db):
    patient = make_user("patient")
    doctor = make_user("doctor")
    _care(db, doctor, patient)
    db.users.delete_one({"_id": patient["_id"]})
    _not_found(call(client, "GET", f"/medical-history/{patient['_id']}", headers=bearer(doctor)))


def test_only_patients_keep_a_medical_history(client):
    for role in ("doctor", "pharmacist", "admin"):
        response = call(client, "POST", "/medical-history", json=ENTRY, headers=bearer(make_user(role)))
        assert response.status_code == 403, role


# ------------------------------------------------------------------ the patient record (QR code), D-10


def test_the_patient_record_is_for_the_patient_and_their_doctors_only(client, db):
    patient = make_user("patient", name="Asha Rao",
                        medicalHistory=[{"analysis": "private", "image": {"url": "https://x.example/1"}}])
    treating = make_user("doctor")
    _care(db, treating, patient)
    own = call(client, "GET", f"/patient/{patient['_id']}/complete-data", headers=bearer(patient))
    assert own.status_code == 200
    data = body(own)["data"]
    assert (data["patientId"], data["name"], data["isActive"]) == (str(patient["_id"]), "Asha Rao", True)
    assert [e["analysis"] for e in data["medicalHistory"]] == ["private"]
    assert _audit(db) == []
    # The treating doctor reads it, audited
    assert call(client, "GET", f"/patient/{patient['_id']}/complete-data", headers=bearer(treating)).status_code == 200
    assert _audit(db) == [{"actorId": treating["_id"], "action": "read", "resourceType": "patientRecord",
                           "subjectId": patient["_id"]}]
    # Anyone else: the same 404 as for nobody (the reference gave the record to any user)
    missing = body(call(client, "GET", "/patient/0123456789abcdef01234567/complete-data", headers=bearer(treating)))
    for outsider in (make_user("doctor"), make_user("patient"), make_user("pharmacist"), make_user("admin")):
        response = call(client, "GET", f"/patient/{patient['_id']}/complete-data", headers=bearer(outsider))
        assert response.status_code == 404 and body(response) == missing


def test_a_full_history_of_the_largest_entries_fits_a_lambda_response(client, db):
    # 500 entries at every limit, in a script that takes 3 bytes per character
    largest = {"analysis": "क" * 2000, "image": {"url": "https://x.example/" + "a" * 1006}, "type": "document"}
    patient = make_user("patient", medicalHistory=[dict(largest) for _ in range(HISTORY_CAP)])
    response = call(client, "GET", f"/medical-history/{patient['_id']}", headers=bearer(patient))
    assert response.status_code == 200
    assert len(response.body) < 5 * 1024 * 1024
