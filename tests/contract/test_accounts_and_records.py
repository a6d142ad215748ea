"""Rows 1-6, 11 and 14-18 of the frontend contract (`../shared/frontend-contract.md`): accounts,
medical history, the patient record, prescriptions and analysis, each request exactly as the
existing frontend's proxy delivers it (`tests/contract/frontend.py`), each answer checked for
every field the UI reads, with the type it renders.
"""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from tests.contract.frontend import cookie_of, read, renders_as_text, send
from tests.factories import PASSWORD, make_user
from tests.media_support import use_cloud
from tests.prescriptions_support import appointment, doctor, patient

AXIOS_DEFAULT_ACCEPT = "application/json, text/plain, */*"  # a bare `axios.get(...)`, not the app's instance
HISTORY = {"analysis": "Mild eczema on the left forearm.\nEmergency Level: 1",
           "url": "https://res.cloudinary.com/cc/image/upload/v1/analysis/skin.png", "type": "image"}


def _text(value, *, empty=False):
    assert renders_as_text(value) and isinstance(value, str), value
    assert empty or value != "", value
    return value


def _instant(value):
    datetime.fromisoformat(_text(value).replace("Z", "+00:00"))  # `new Date(...)` parses it
    return value


# ---------------------------------------------------------------- rows 1-4: accounts


def test_row_1_sign_up_as_a_patient_from_the_form(client, db):
    # Given the sign-up form's multipart fields for a patient
    fields = {"name": "Asha Rao", "contact": "asha@example.com", "password": PASSWORD, "role": "patient"}
    # When it is posted through the proxy
    response = send(client, "POST", "/register", form=fields)
    # Then 201 with `data.user`, and the session cookie
    assert response.status_code == 201, response.body
    user = read(response)["user"]
    assert _text(user["_id"]) and user["name"] == "Asha Rao" and user["role"] == "patient"
    assert user["contact"] == "asha@example.com"
    assert response.headers["Set-Cookie"].startswith("token=ey")
    assert db.users.count_documents({"contact": "asha@example.com"}) == 1


def test_row_1_sign_up_as_a_doctor_with_strings_and_the_avatar_as_a_json_string(client, monkeypatch):
    # Given the doctor's extra fields as the form sends them: a boolean as a string, and the avatar
    # as the JSON string of its browser upload to this deployment's Cloudinary cloud
    use_cloud(monkeypatch, "cc")
    avatar = {"public_id": "doctors/meera", "url": "https://res.cloudinary.com/cc/image/upload/v1/doctors/meera.png"}
    fields = {"name": "Meera Iyer", "contact": "meera@example.com", "password": PASSWORD, "role": "doctor",
              "speciality": "Cardiology", "availability": "true", "avatar": json.dumps(avatar)}
    # When it is posted through the proxy
    response = send(client, "POST", "/register", form=fields)
    # Then the doctor exists, awaiting approval, with the speciality and the avatar's url as text
    assert response.status_code == 201, response.body
    user = read(response)["user"]
    assert (user["role"], user["speciality"]) == ("doctor", "Cardiology")
    assert _text(user["avatar"]["url"]) == avatar["url"]
    assert user["availability"] is False  # a pending doctor takes no bookings yet


@pytest.mark.parametrize(("fields", "field"), [
    ({"name": "Asha Rao", "contact": "asha@example.com", "role": "patient"}, "password"),
    ({"name": "A", "contact": "asha@example.com", "password": PASSWORD, "role": "patient"}, "name"),
    ({"name": "Asha Rao", "contact": "asha@example.com", "password": PASSWORD, "role": "surgeon"}, "role"),
])
def test_row_1_a_refused_sign_up_says_which_field_in_message(client, fields, field):
    # The UI shows `response.data.message` only: it must name the first failing field
    response = send(client, "POST", "/register", form=fields)
    assert response.status_code == 400
    assert _text(read(response)["message"]).startswith(f"{field}: ")
    assert read(response)["errors"][0]["field"] == field  # errors[] as before


def test_row_1_an_invalid_contact_says_so_in_message(client):
    response = send(client, "POST", "/register", form={"name": "Asha Rao", "contact": "not-a-contact",
                                                       "password": PASSWORD, "role": "patient"})
    assert response.status_code == 422 and _text(read(response)["message"]).startswith("contact: ")


def test_row_2_login_answers_the_user_and_sets_the_cookie(client):
    owner = make_user("patient", contact="ravi@example.com")
    response = send(client, "POST", "/login", json_body={"contact": "ravi@example.com", "password": PASSWORD})
    assert response.status_code == 200, response.body
    user = read(response)["user"]
    assert user["_id"] == str(owner["_id"]) and user["role"] == "patient" and _text(user["name"])
    assert response.headers["Set-Cookie"].startswith("token=ey")


def test_row_2_a_failed_login_says_why_in_message(client):
    make_user("patient", contact="ravi@example.com")
    response = send(client, "POST", "/login", json_body={"contact": "ravi@example.com", "password": "wrong-pass-1"})
    assert response.status_code == 401 and _text(read(response)["message"])


def test_row_3_me_on_every_page_load_for_a_patient_and_a_doctor(client):
    # Given a patient and an approved, bookable doctor
    owner = make_user("patient")
    medic = make_user("doctor", speciality="Dermatology",
                      avatar={"public_id": "d/1", "url": "https://res.cloudinary.com/cc/d1.png"})
    # When each page load asks who is signed in
    me = read(send(client, "GET", "/me", owner))["user"]
    doc = read(send(client, "GET", "/me", medic))["user"]
    # Then every field the navbar and account page read, in the type they render
    for user, who in ((me, owner), (doc, medic)):
        assert user["_id"] == str(who["_id"]) and _text(user["name"]) and _text(user["role"])
        assert _text(user["contact"]) and _instant(user["createdAt"])
    assert _text(doc["speciality"]) == "Dermatology" and _text(doc["avatar"]["url"]).startswith("https://")
    assert doc["availability"] is True


def test_row_3_me_for_a_signed_up_patient_has_an_empty_avatar_url(client):
    signed_up = read(send(client, "POST", "/register", form={"name": "Asha Rao", "contact": "asha@example.com",
                                                             "password": PASSWORD, "role": "patient"}))
    me = read(send(client, "GET", "/me", cookie=f"token={signed_up['token']}"))["user"]
    assert _text(me["avatar"]["url"], empty=True) == ""


def test_row_4_logout_ends_the_session(client):
    owner = make_user("patient")
    cookie = cookie_of(owner)
    response = send(client, "GET", "/logout", cookie=cookie)
    assert response.status_code == 200
    assert "Max-Age=0" in response.headers["Set-Cookie"]
    assert send(client, "GET", "/me", cookie=cookie).status_code == 401


# ---------------------------------------------------------------- rows 5, 6, 11: medical history, the record


def test_rows_5_and_6_an_analysis_is_saved_and_listed(client):
    # Given a patient back from the analysis (Cloudinary upload, then Gemini)
    owner = make_user("patient")
    # When the analysis page saves it
    saved = send(client, "POST", "/medical-history", owner, json_body=HISTORY)
    # Then `data.medicalHistory` holds it
    assert saved.status_code == 201, saved.body
    assert [e["analysis"] for e in read(saved)["medicalHistory"]] == [HISTORY["analysis"]]
    # And the history page lists it with every field its cards read
    listed = send(client, "GET", f"/medical-history/{owner['_id']}", owner)
    assert listed.status_code == 200
    [entry] = read(listed)["medicalHistory"]
    assert _text(entry["_id"]) and _text(entry["analysis"]) == HISTORY["analysis"]
    assert _text(entry["image"]["url"]) == HISTORY["url"] and _text(entry["url"]) == HISTORY["url"]
    assert _instant(entry["createdAt"])


def test_row_11_the_patient_record_behind_the_qr_code(client):
    # Given a patient with a history, and their doctor (an appointment between them)
    owner = patient(medicalHistory=[{"_id": "h1", "analysis": "Old note", "image": {"url": HISTORY["url"]}}])
    medic = doctor()
    appointment(medic, owner)
    # When the QR page asks with a bare axios call (the default Accept), as the patient and as the doctor
    for reader in (owner, medic):
        response = send(client, "GET", f"/patient/{owner['_id']}/complete-data", reader,
                        headers={"Accept": AXIOS_DEFAULT_ACCEPT})
        # Then `response.data.data` is the record
        assert response.status_code == 200, response.body
        data = read(response)["data"]
        assert data["patientId"] == str(owner["_id"]) and _text(data["name"]) and _text(data["contact"])
        assert [e["analysis"] for e in data["medicalHistory"]] == ["Old note"]
        assert isinstance(data["prescriptions"], list)
    # And a stranger gets the same 404 as for no such patient
    stranger = send(client, "GET", f"/patient/{owner['_id']}/complete-data", make_user("patient"),
                    headers={"Accept": AXIOS_DEFAULT_ACCEPT})
    assert stranger.status_code == 404 and _text(read(stranger)["message"])


# ---------------------------------------------------------------- rows 14-17: prescriptions

PRESCRIPTION = {"diagnosis": "Acute bronchitis", "symptoms": "Cough for a week",
                "medications": [{"name": "Amoxicillin", "dosage": "500 mg", "frequency": "3 times a day",
                                 "duration": "7 days", "instructions": "After food"},
                                {"name": "Paracetamol", "dosage": "650 mg", "frequency": "if fever",
                                 "duration": "", "instructions": ""}],
                "notes": "Drink plenty of fluids", "followUpInstructions": "Come back in a week"}


@pytest.fixture
def prescribed(client):
    """A doctor's appointment with a patient, built directly (confirmed: the state a prescription
    needs), and the prescription the doctor's modal wrote for it through the proxy."""
    medic, owner = doctor(name="Dr. Ananya Iyer", speciality="Pulmonology"), patient(name="Rahul Verma")
    appt = appointment(medic, owner)
    response = send(client, "POST", "/prescription/new", medic,
                    json_body={"patientId": str(owner["_id"]), "appointmentId": str(appt["_id"]), **PRESCRIPTION})
    return {"doctor": medic, "patient": owner, "appointment": appt, "response": response}


def test_row_14_the_prescription_modal_writes_a_prescription(prescribed):
    response = prescribed["response"]
    assert response.status_code == 201, response.body
    rx = read(response)["prescription"]
    assert _text(rx["_id"]) and _text(rx["prescriptionNumber"])
    assert [m["name"] for m in rx["medications"]] == ["Amoxicillin", "Paracetamol"]


def test_row_14_a_refused_prescription_is_not_a_2xx_and_says_why(client):
    # The modal shows success on any 2xx: a refusal must be a 4xx with a message
    medic, owner = doctor(), patient()
    appt = appointment(medic, owner, status="cancelled")
    response = send(client, "POST", "/prescription/new", medic,
                    json_body={"patientId": str(owner["_id"]), "appointmentId": str(appt["_id"]), **PRESCRIPTION})
    assert response.status_code == 422 and _text(read(response)["message"])
    missing = send(client, "POST", "/prescription/new", medic,
                   json_body={"patientId": str(owner["_id"]), "appointmentId": str(appt["_id"])})
    assert missing.status_code == 400 and read(missing)["message"].startswith("diagnosis: ")


def test_row_15_the_patients_prescriptions_page(client, prescribed):
    # When the patient opens /prescriptions
    response = send(client, "GET", "/prescriptions", prescribed["patient"])
    # Then every field its cards read, in the type they render
    assert response.status_code == 200
    [card] = read(response)["prescriptions"]
    assert card["_id"] == read(prescribed["response"])["prescription"]["_id"]
    assert _text(card["prescriptionNumber"]) and _instant(card["createdAt"])
    assert card["doctor"]["name"] == "Dr. Ananya Iyer" and card["doctor"]["speciality"] == "Pulmonology"
    assert card["patient"]["name"] == "Rahul Verma"
    assert _text(card["patient"]["contact"]) == prescribed["patient"]["contact"]
    for key in ("diagnosis", "symptoms", "notes", "followUpInstructions"):
        assert _text(card[key]) == PRESCRIPTION[key]
    for med, sent in zip(card["medications"], PRESCRIPTION["medications"], strict=True):
        for key in ("name", "dosage", "frequency", "duration", "instructions"):
            assert _text(med[key], empty=True) == sent[key]


def test_row_16_one_prescription(client, prescribed):
    rx_id = read(prescribed["response"])["prescription"]["_id"]
    for reader in (prescribed["patient"], prescribed["doctor"]):
        response = send(client, "GET", f"/prescription/{rx_id}", reader)
        assert response.status_code == 200
        rx = read(response)["prescription"]
        assert rx["_id"] == rx_id and _text(rx["diagnosis"]) and _text(rx["doctor"]["name"])


def test_row_17_the_pdf_download_with_the_frontends_accept(client, prescribed):
    # Given the card's download: `Accept: application/json`, `responseType: 'blob'`
    rx = read(prescribed["response"])["prescription"]
    # When the patient downloads it
    response = send(client, "GET", f"/prescription/{rx['_id']}/pdf", prescribed["patient"])
    # Then the file arrives, named after the prescription
    assert response.status_code == 200, response.body[:300]
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.body.startswith(b"%PDF-")
    assert rx["prescriptionNumber"] in response.headers["Content-Disposition"]


# ---------------------------------------------------------------- row 18: analysis


def test_row_18_analyze_without_a_provider_is_a_503_after_the_request_is_accepted(client, monkeypatch):
    from functions.core import config

    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    config.reset_settings()
    owner = make_user("patient")
    # Given the body SpecificAnalysis posts after its Cloudinary upload
    sent = {"image_url": "https://res.cloudinary.com/cc/image/upload/v1/analysis/skin.png",
            "prompt": "Describe this skin condition"}
    # When it is posted without GOOGLE_API_KEY
    response = send(client, "POST", "/analyze", owner, json_body=sent)
    # Then the request's shape was accepted (no 400, 403 or 415) and the missing provider is a 503
    # whose message the UI can show
    assert response.status_code == 503, response.body
    assert read(response)["code"] == "ANALYSIS_NOT_CONFIGURED" and _text(read(response)["message"])
    # (the same request without its image is refused before that, so the 503 proves the shape)
    refused = send(client, "POST", "/analyze", owner, json_body={"prompt": sent["prompt"]})
    assert refused.status_code == 400
