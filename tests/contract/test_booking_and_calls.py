"""Rows 7-14 of the frontend contract (`../shared/frontend-contract.md`): the booking modal, the
appointments page, the patient QR code, the video call page and the doctor's prescription
form, each request exactly as the frontend's proxy delivers it (`tests/contract/frontend.py`),
asserting the status and every field the UI reads with the type it renders.

The story the issue names: a patient books through the frontend's request, the booking is
confirmed (a doctor without `requiresConfirmation`), and the doctor can then write a
prescription and "Notify Patient"; a doctor with `requiresConfirmation` gets `pending` bookings.
Clock: Monday 2026-03-02 10:00 UTC (the `api` fixture); "tomorrow 09:00" is an offered slot.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.contract.frontend import read, renders_as_text, send
from tests.factories import make_user

DAY = "2026-03-03"
AVATAR = {"public_id": "doctors/meera", "url": "https://res.cloudinary.com/cc/meera.png"}
NO_AVATAR = {"public_id": "", "url": ""}  # what sign-up stores for a doctor without a picture
# PatientQRCode calls the bare axios (not the app's instance): axios's default Accept.
BARE_AXIOS = {"Accept": "application/json, text/plain, */*"}


def a_doctor(**fields: Any) -> dict[str, Any]:
    return make_user("doctor", name="Dr Meera Iyer", speciality="Cardiology", avatar=AVATAR, **fields)


def booking(doctor: dict[str, Any], time: str = "09:00") -> dict[str, str]:
    """Row 9's body: exactly the five fields the booking modal sends."""
    return {"doctor": str(doctor["_id"]), "description": "Chest pain on stairs", "symptoms": "breathless, tired",
            "day": DAY, "time": time}


def booked(api: Any, patient: dict[str, Any], doctor: dict[str, Any], time: str = "09:00") -> dict[str, Any]:
    response = send(api, "POST", "/appointment/new", patient, json_body=booking(doctor, time))
    assert response.status_code == 201, response.body
    return read(response)["appointment"]


def prescription_form(patient_id: str, appointment_id: str) -> dict[str, Any]:
    """Row 14's body, as PrescriptionModal sends it."""
    return {"patientId": patient_id, "appointmentId": appointment_id, "diagnosis": "Stable angina",
            "symptoms": "Chest pain on exertion",
            "medications": [{"name": "Aspirin", "dosage": "75 mg", "frequency": "once a day", "duration": "30 days",
                             "instructions": "After breakfast"}],
            "notes": "Avoid heavy exertion", "followUpInstructions": "Review in two weeks"}


# ---------------------------------------------------------------- row 7: GET /doctors


def test_row_7_the_booking_modal_lists_doctors_with_text_fields_and_the_bookable_flag(api):
    # Given a doctor with a picture and one who signed up without one
    pictured, plain = a_doctor(), make_user("doctor", name="Dr Anil Shah", avatar=NO_AVATAR)
    # When the booking modal asks for the doctors (no cookie needed)
    response = send(api, "GET", "/doctors")
    # Then each carries _id, name, speciality and avatar.url as text, and availability as a boolean
    assert response.status_code == 200
    doctors = {d["_id"]: d for d in read(response)["doctors"]}
    assert set(doctors) == {str(pictured["_id"]), str(plain["_id"])}
    for doctor in doctors.values():
        assert all(isinstance(doctor[k], str) for k in ("_id", "name", "speciality"))
        assert isinstance(doctor["avatar"]["url"], str) and doctor["availability"] is True
    assert doctors[str(pictured["_id"])]["avatar"]["url"] == AVATAR["url"]


def test_a_doctors_fee_reads_in_rupees_wherever_it_is_shown(api):
    # Given a doctor whose fee is stored as 50 050 paise
    doctor = a_doctor(consultationFee=50050, currency="INR")
    # When the directory, the doctor's page and the doctor's own /me are read
    listed = read(send(api, "GET", "/doctors"))["doctors"][0]
    alone = read(send(api, "GET", f"/doctor/{doctor['_id']}"))["doctor"]
    own = read(send(api, "GET", "/me", doctor))["user"]
    # Then each shows ₹500.50 as a number in rupees
    assert listed["consultationFee"] == alone["consultationFee"] == own["consultationFee"] == 500.5


# ---------------------------------------------------------------- row 8: slots


def test_row_8_slots_are_a_list_of_times_as_text(api):
    doctor = a_doctor()
    response = send(api, "GET", f"/appointment/slots/{doctor['_id']}/{DAY}")
    assert response.status_code == 200
    slots = read(response)["availableSlots"]
    assert slots[:2] == ["09:00", "09:30"] and all(isinstance(s, str) for s in slots)


# ---------------------------------------------------------------- row 9: booking


def test_row_9_booking_with_the_modals_body_is_confirmed_for_a_doctor_without_the_setting(api):
    # Given a doctor who never set requiresConfirmation, and a signed-in patient
    doctor, patient = a_doctor(), make_user("patient")
    # When the modal posts its five fields through the proxy
    response = send(api, "POST", "/appointment/new", patient, json_body=booking(doctor))
    # Then it is a 2xx the modal shows as success, and the appointment is confirmed at once
    assert response.status_code == 201, response.body
    data = read(response)
    assert data["success"] is True and data["appointment"]["status"] == "confirmed"
    # And the slot is no longer offered
    assert "09:00" not in read(send(api, "GET", f"/appointment/slots/{doctor['_id']}/{DAY}"))["availableSlots"]


def test_row_9_with_requires_confirmation_set_through_the_api_the_booking_is_pending(api):
    # Given a doctor who turns on requiresConfirmation (through the proxy, with their cookie)
    doctor, patient = a_doctor(), make_user("patient")
    setting = send(api, "PUT", "/doctor/availability", doctor, json_body={"requiresConfirmation": True})
    assert setting.status_code == 200, setting.body
    # When a patient books with the modal's body
    response = send(api, "POST", "/appointment/new", patient, json_body=booking(doctor))
    # Then the booking waits for the doctor
    assert response.status_code == 201, response.body
    assert read(response)["appointment"]["status"] == "pending"


def test_a_foreign_page_cannot_book_or_notify_with_the_visitors_cookie(api):
    doctor, patient = a_doctor(), make_user("patient")
    refused = send(api, "POST", "/appointment/new", patient, json_body=booking(doctor), site="cross-site")
    assert refused.status_code == 403 and read(refused)["code"] == "CROSS_SITE_REQUEST"
    refused = send(api, "POST", "/notify-doctor-joined", doctor, site="cross-site",
                   json_body={"patientId": str(patient["_id"]), "roomId": "general"})
    assert refused.status_code == 403 and read(refused)["code"] == "CROSS_SITE_REQUEST"
    assert read(send(api, "GET", "/appointment/my", patient))["appointments"] == []


# ---------------------------------------------------------------- row 10: the appointments page


def test_row_10_both_sides_of_the_appointments_page_read_text_fields(api):
    # Given a booked appointment
    doctor, patient = a_doctor(), make_user("patient", name="Asha Rao")
    booked(api, patient, doctor)
    # When the patient and then the doctor open the appointments page
    mine = send(api, "GET", "/appointment/my", patient)
    theirs = send(api, "GET", "/appointment/my", doctor)
    # Then every field a card prints is text
    assert mine.status_code == theirs.status_code == 200
    [as_patient], [as_doctor] = read(mine)["appointments"], read(theirs)["appointments"]
    for card in (as_patient, as_doctor):
        for key in ("day", "time", "status", "description", "symptoms", "roomId", "createdAt"):
            assert isinstance(card[key], str) and card[key], key
        assert (card["doctor"]["name"], card["doctor"]["speciality"]) == ("Dr Meera Iyer", "Cardiology")
        assert (card["patient"]["_id"], card["patient"]["name"]) == (str(patient["_id"]), "Asha Rao")
        assert card["status"] == "confirmed" and card["day"] == DAY and card["time"] == "09:00"
    # And the doctor's card shows the patient's contact
    assert as_doctor["patient"]["contact"] == patient["contact"]
    assert all(renders_as_text(v) for v in as_doctor["patient"].values())


# ---------------------------------------------------------------- row 11: the patient's QR code


@pytest.mark.parametrize("reader", ["patient", "doctor"])
def test_row_11_the_qr_code_reads_the_patient_record_through_bare_axios(api, reader):
    # Given a patient and the doctor they booked
    doctor, patient = a_doctor(), make_user("patient", name="Asha Rao")
    booked(api, patient, doctor)
    caller = {"patient": patient, "doctor": doctor}[reader]
    # When the QR code component asks with axios's defaults
    response = send(api, "GET", f"/patient/{patient['_id']}/complete-data", caller, headers=BARE_AXIOS)
    # Then response.data.data is the patient's record, which it encodes
    assert response.status_code == 200, response.body
    data = read(response)["data"]
    assert (data["patientId"], data["name"], data["role"]) == (str(patient["_id"]), "Asha Rao", "patient")
    assert isinstance(data["medicalHistory"], list)


# ---------------------------------------------------------------- row 12: the video call page


def test_row_12_each_party_of_the_call_reads_the_others_name_and_role(api):
    doctor, patient = a_doctor(), make_user("patient", name="Asha Rao")
    booked(api, patient, doctor)
    for caller, other, expected in ((patient, doctor, ("Dr Meera Iyer", "doctor")),
                                    (doctor, patient, ("Asha Rao", "patient"))):
        response = send(api, "GET", f"/user/{other['_id']}", caller)
        assert response.status_code == 200
        data = read(response)
        assert data["success"] is True and (data["user"]["name"], data["user"]["role"]) == expected


# ---------------------------------------------------------------- row 13: "Notify Patient"


def test_row_13_notify_with_the_pages_default_room_general_reaches_the_booked_patient(api):
    # Given a confirmed booking, and the call page opened without a room (roomId defaults to "general")
    doctor, patient = a_doctor(), make_user("patient", name="Asha Rao")
    booked(api, patient, doctor)
    # When the doctor presses "Notify Patient"
    response = send(api, "POST", "/notify-doctor-joined", doctor,
                    json_body={"patientId": str(patient["_id"]), "roomId": "general"})
    # Then it succeeds and names the patient
    assert response.status_code == 200, response.body
    data = read(response)
    assert data["success"] is True and data["data"]["patientName"] == "Asha Rao"


# ---------------------------------------------------------------- the story of issue 17, item 4


def test_a_booking_through_the_frontend_lets_the_doctor_prescribe_and_notify_the_patient(api):
    # Given a doctor who never set requiresConfirmation, and a patient
    doctor, patient = a_doctor(), make_user("patient", name="Asha Rao")
    # When the patient books through the booking modal's request
    booked(api, patient, doctor)
    # Then the doctor's appointments page shows it confirmed, with its room for Join Call
    [card] = read(send(api, "GET", "/appointment/my", doctor))["appointments"]
    assert card["status"] == "confirmed"
    # When the doctor writes a prescription with the form's body
    written = send(api, "POST", "/prescription/new", doctor,
                   json_body=prescription_form(card["patient"]["_id"], card["_id"]))
    # Then it is created (the form shows data.prescription)
    assert written.status_code == 201, written.body
    prescription = read(written)["prescription"]
    assert isinstance(prescription["_id"], str) and isinstance(prescription["prescriptionNumber"], str)
    # When the doctor, in the call opened by Join Call, presses "Notify Patient"
    notified = send(api, "POST", "/notify-doctor-joined", doctor,
                    json_body={"patientId": card["patient"]["_id"], "roomId": card["roomId"]})
    # Then it succeeds and names the patient
    assert notified.status_code == 200, notified.body
    assert read(notified)["success"] is True and read(notified)["data"]["patientName"] == "Asha Rao"
    # And the patient finds the prescription on their prescriptions page
    assert [p["_id"] for p in read(send(api, "GET", "/prescriptions", patient))["prescriptions"]] == \
        [prescription["_id"]]
