"""The prescriptions' answers are what the OpenAPI document says (issue 23): writing, listing,
reading, verifying and revoking a prescription, each answer validated against its route's
documented schema (`tests.documented`, unknown keys refused), and the document's example of
writing one validated the same way."""

from __future__ import annotations

from typing import Any

from tests.documented import document, documented, validate
from tests.factories import make_user
from tests.http import call
from tests.prescriptions_support import appointment, doctor, patient, payload


def ok(api: Any, method: str, path: str, user: dict[str, Any] | None, status: int = 200, **kwargs: Any) -> Any:
    response = call(api, method, path, as_=user, **kwargs)
    assert response.status_code == status, (method, path, response.body[:400])
    return documented(response, method, path)


def test_a_prescription_s_life_answers_what_the_document_says(api):
    # Given a doctor's confirmed appointment with a patient
    author, sick = doctor(name="Anita Desai"), patient(name="Ravi Kumar")
    appt = appointment(author, sick)
    # When the doctor writes a prescription, the patient and an admin read it, anyone verifies it
    written = ok(api, "POST", "/prescription/new", author, 201, json=payload(appt))["prescription"]
    mine = ok(api, "GET", "/prescriptions", sick)
    theirs = ok(api, "GET", "/prescriptions", author)
    read = ok(api, "GET", f"/prescription/{written['_id']}", sick)
    by_admin = ok(api, "GET", f"/prescription/{written['_id']}", make_user("admin"))
    verified = ok(api, "GET", f"/prescription/verify/{written['verificationCode']}", None)
    # And the doctor revokes it
    revoked = ok(api, "PUT", f"/prescription/{written['_id']}/revoke", author, json={"reason": "Wrong patient"})
    # Then every answer validated, with what the cards and the pharmacist read
    assert written["patient"]["contact"] and written["medications"][0]["remaining"] == 21
    assert mine["count"] == theirs["count"] == 1 and mine["prescriptions"][0]["doctor"]["name"] == "Anita Desai"
    assert read["prescription"]["verificationCode"] == written["verificationCode"]
    assert "contact" not in by_admin["prescription"]["patient"]
    assert verified["valid"] is True and verified["patientInitials"] == "R. K."
    assert revoked["prescription"]["status"] == "revoked" and revoked["prescription"]["revokeReason"]


def test_refusals_are_documented_error_answers(api):
    # Given a doctor and someone else's appointment
    author = doctor()
    appt = appointment(doctor(), patient(), status="pending")
    # When the doctor writes for it, or anyone verifies an unknown code
    foreign = call(api, "POST", "/prescription/new", as_=author, json=payload(appt))
    unknown = call(api, "GET", "/prescription/verify/AAAA-BBBB-CCCC", as_=None)
    # Then each is the error envelope with a code its route documents
    assert foreign.status_code in (404, 422) and documented(foreign, "POST", "/prescription/new")
    assert unknown.status_code == 404 and documented(unknown, "GET", "/prescription/verify/x")["valid"] is False


def test_the_fields_the_prescription_cards_read_are_required():
    # Given the documented list of prescriptions (frontend-contract.md row 15)
    schema = document()["components"]["schemas"]
    card = schema["PrescriptionCardOut"]
    # Then each field the cards read is required, the people's names and the patient's contact too
    for field in ("_id", "prescriptionNumber", "createdAt", "doctor", "patient", "diagnosis", "symptoms",
                  "medications", "notes", "followUpInstructions"):
        assert field in card["required"], field
    assert {"name", "speciality"} <= set(schema["DoctorRefOut"]["required"])
    assert {"name", "contact"} <= set(schema["PatientContactOut"]["required"])
    listed = schema["PrescriptionListAnswer"]["properties"]["prescriptions"]["items"]
    assert listed == {"$ref": "#/components/schemas/PrescriptionCardOut"}


def test_the_example_of_writing_a_prescription_is_a_valid_answer():
    # Given the document's example of the main flow
    operation = document()["paths"]["/api/v1/prescription/new"]["post"]
    answer = operation["responses"]["201"]["content"]["application/json"]
    # Then the response example is what the route documents, and the request is the frontend's body
    for example in answer["examples"].values():
        validate(answer["schema"], example["value"])
    request = operation["requestBody"]["content"]["application/json"]
    for example in request["examples"].values():
        validate(request["schema"], example["value"])
