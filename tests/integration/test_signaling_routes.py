"""REST routes of the signaling domain: ICE servers, the other party's card, and the doctor's
"I joined" notice (over the WebSocket when the patient is connected, else SMS/e-mail)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import timedelta

import pytest

from tests.appointments_support import sent_emails
from tests.factories import make_user
from tests.http import body, call
from tests.signaling_support import confirmed_appointment, fresh_sockets


@pytest.fixture
def sockets(api, chalice_app):
    with fresh_sockets(chalice_app) as driver:
        yield driver


def answer(client, method, path, user=None, payload=None):
    response = call(client, method, path, as_=user, json=payload)
    return response.status_code, body(response)


def test_ice_servers_are_stun_by_default_and_turn_for_an_open_call_when_configured(client, clock, monkeypatch):
    from functions.core import config

    patient = make_user("patient")
    status, plain = answer(client, "GET", "/rtc/ice-servers", patient)
    assert status == 200 and plain["iceServers"] == [{"urls": ["stun:stun.l.google.com:19302"]}]
    assert answer(client, "GET", "/rtc/ice-servers")[0] == 401
    # When TURN is configured
    monkeypatch.setenv("TURN_URLS", "turn:turn.example.test:3478,turns:turn.example.test:5349")
    monkeypatch.setenv("TURN_SECRET", "shared-turn-secret")
    monkeypatch.setenv("TURN_TTL_SECONDS", "600")
    config.reset_settings()
    appt, patient, _ = confirmed_appointment(clock, patient=patient)
    _, body = answer(client, "GET", f"/rtc/ice-servers?roomId={appt['roomId']}", patient)
    # Then the TURN entry carries `<expiry>:<userId>` and its HMAC-SHA1, valid for the TTL
    turn = body["iceServers"][1]
    expiry = int(clock.current.timestamp()) + 600
    assert turn["username"] == f"{expiry}:{patient['_id']}"
    digest = hmac.new(b"shared-turn-secret", turn["username"].encode(), hashlib.sha1).digest()
    assert turn["credential"] == base64.b64encode(digest).decode()
    assert body["ttl"] == 600 and "shared-turn-secret" not in json.dumps(body)


def test_a_user_card_is_for_people_who_share_an_appointment(client, clock):
    _, patient, doctor = confirmed_appointment(clock)
    stranger, admin = make_user("patient"), make_user("admin")
    # When the patient looks up their doctor, the doctor their patient, an admin, and a stranger
    status, card = answer(client, "GET", f"/user/{doctor['_id']}", patient)
    assert status == 200
    assert card["user"] == {"_id": str(doctor["_id"]), "name": doctor["name"], "role": "doctor", "avatar": None}
    assert answer(client, "GET", f"/user/{patient['_id']}", doctor)[0] == 200
    assert answer(client, "GET", f"/user/{patient['_id']}", admin)[0] == 200
    # Then a stranger learns nothing, not even that the user exists
    assert answer(client, "GET", f"/user/{doctor['_id']}", stranger)[0] == 404
    assert answer(client, "GET", "/user/not-an-id", patient)[0] == 404
    assert answer(client, "GET", f"/user/{doctor['_id']}")[0] == 401


def test_doctor_joined_reaches_a_connected_patient_over_the_websocket(sockets, api, clock):
    appt, patient, doctor = confirmed_appointment(clock)
    p = sockets.open(patient)
    # When the appointment's doctor says they joined
    status, body = answer(api, "POST", "/notify-doctor-joined", doctor, {"appointmentId": str(appt["_id"])})
    # Then the patient's page hears it, and no e-mail is sent
    assert status == 200
    assert body["data"]["patientName"] == patient["name"] and body["data"]["channel"] == "websocket"
    assert sockets.new_frames(p) == [{"type": "doctor-joined", "appointmentId": str(appt["_id"]),
                                      "roomId": appt["roomId"], "doctorName": doctor["name"]}]
    assert sent_emails() == []


def test_doctor_joined_falls_back_to_email_without_medical_details(sockets, api, clock):
    appt, patient, doctor = confirmed_appointment(clock)
    # When the patient is not connected, and the old frontend's body is used
    status, body = answer(api, "POST", "/notify-doctor-joined", doctor,
                        {"patientId": str(patient["_id"]), "roomId": appt["roomId"]})
    # Then an e-mail with a link to the frontend's appointments page (its Join Call carries the
    # room) goes out, naming no symptom and no room id
    assert status == 200 and body["data"]["channel"] == "email"
    [mail] = sent_emails()
    assert mail.destinations["ToAddresses"] == [patient["contact"]]
    assert "https://app.cureconnect.test/appointments" in mail.body and "/call" not in mail.body
    assert str(appt["_id"]) not in mail.body
    assert "SECRET-SYMPTOM" not in mail.body and appt["roomId"] not in mail.body


def test_the_frontends_default_room_general_means_the_pairs_confirmed_appointment_now_or_next(sockets, api, clock):
    # Given a patient with an appointment that ended, a confirmed one in 10 minutes and one tomorrow
    _, patient, doctor = confirmed_appointment(clock, starts_in=timedelta(hours=-2))
    current, _, _ = confirmed_appointment(clock, patient=patient, doctor=doctor)
    confirmed_appointment(clock, patient=patient, doctor=doctor, starts_in=timedelta(days=1))
    # When the doctor's call page, opened without a room, sends the frontend's default
    status, body = answer(api, "POST", "/notify-doctor-joined", doctor,
                        {"patientId": str(patient["_id"]), "roomId": "general"})
    # Then the patient is told about the appointment in 10 minutes
    assert status == 200, body
    assert body["data"]["patientName"] == patient["name"] and body["data"]["appointmentId"] == str(current["_id"])
    [mail] = sent_emails()
    assert mail.destinations["ToAddresses"] == [patient["contact"]]
    # And "general" names no appointment of another pair, nor one that is not confirmed
    stranger = make_user("patient")
    assert answer(api, "POST", "/notify-doctor-joined", doctor,
                {"patientId": str(stranger["_id"]), "roomId": "general"})[0] == 404
    _, waiting, other_doctor = confirmed_appointment(clock, status="pending")
    assert answer(api, "POST", "/notify-doctor-joined", other_doctor,
                {"patientId": str(waiting["_id"]), "roomId": "general"})[0] == 404
    assert len(sent_emails()) == 1


def test_doctor_joined_is_for_the_appointments_doctor_and_rate_limited(sockets, api, clock):
    appt, patient, doctor = confirmed_appointment(clock)
    other_patient_appt, _, _ = confirmed_appointment(clock, doctor=doctor, starts_in=timedelta(hours=3))
    # When another doctor, the patient, a mismatched patient/room pair, and a free-text room are tried
    assert answer(api, "POST", "/notify-doctor-joined", make_user("doctor"), {"appointmentId": str(appt["_id"])})[0] \
        == 404
    assert answer(api, "POST", "/notify-doctor-joined", patient, {"appointmentId": str(appt["_id"])})[0] == 403
    assert answer(api, "POST", "/notify-doctor-joined", doctor,
                {"patientId": str(patient["_id"]), "roomId": other_patient_appt["roomId"]})[0] == 404
    assert answer(api, "POST", "/notify-doctor-joined", doctor,
                {"patientId": str(patient["_id"]), "roomId": "any-free-text"})[0] == 404
    assert answer(api, "POST", "/notify-doctor-joined", doctor, {})[0] == 400
    # Then (D-12) none of them sends anything; the real doctor may, once a minute
    assert sent_emails() == []
    assert answer(api, "POST", "/notify-doctor-joined", doctor, {"appointmentId": str(appt["_id"])})[0] == 200
    status, body = answer(api, "POST", "/notify-doctor-joined", doctor, {"appointmentId": str(appt["_id"])})
    assert status == 429 and body["code"] == "RATE_LIMITED"
    clock.advance(seconds=61)
    assert answer(api, "POST", "/notify-doctor-joined", doctor, {"appointmentId": str(appt["_id"])})[0] == 200
    assert len(sent_emails()) == 2
