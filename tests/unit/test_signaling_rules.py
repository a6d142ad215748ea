"""Pure rules of the signaling domain: who may enter a room and when, and TURN credentials."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

from bson import ObjectId

from functions.signaling import access, ice

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
PATIENT, DOCTOR, OTHER = ObjectId(), ObjectId(), ObjectId()


def appointment(status: str = "confirmed", starts_in: timedelta = timedelta(minutes=10)) -> access.Room:
    start = NOW + starts_in
    return access.room_from_appointment({"_id": ObjectId(), "roomId": "r" * 22, "patient": PATIENT,
                                         "doctor": DOCTOR, "status": status, "start": start,
                                         "end": start + timedelta(minutes=30)}, early_minutes=15)


def test_video_opens_fifteen_minutes_early_and_closes_thirty_after_the_end():
    # Given a confirmed 30-minute appointment starting at 10:10
    room = appointment()
    # Then participants may join from 09:55 to 11:10, nobody else ever
    assert not access.video_allowed(room, PATIENT, NOW - timedelta(minutes=5, seconds=1))
    assert access.video_allowed(room, PATIENT, NOW - timedelta(minutes=5))
    assert access.video_allowed(room, DOCTOR, NOW + timedelta(minutes=70))
    assert not access.video_allowed(room, DOCTOR, NOW + timedelta(minutes=71))
    assert not access.video_allowed(room, OTHER, NOW)
    assert not access.video_allowed(None, PATIENT, NOW)


def test_video_needs_a_confirmed_appointment_chat_anything_but_cancelled():
    for status, video, chat in (("confirmed", True, True), ("pending", False, True), ("completed", False, True),
                                ("cancelled", False, False)):
        room = appointment(status)
        assert (access.video_allowed(room, PATIENT, NOW), access.chat_allowed(room, PATIENT)) == (video, chat)
    assert not access.chat_allowed(appointment(), OTHER)


def test_an_emergency_room_opens_to_its_patient_and_assigned_doctor_for_two_hours():
    pending = access.room_from_emergency({"_id": ObjectId(), "roomId": "e" * 22, "patientId": PATIENT,
                                          "status": "pending"})
    assigned = access.room_from_emergency({"_id": ObjectId(), "roomId": "e" * 22, "patientId": PATIENT,
                                           "doctorId": DOCTOR, "status": "assigned", "acceptedAt": NOW})
    assert not access.video_allowed(pending, PATIENT, NOW) and not access.chat_allowed(pending, PATIENT)
    assert access.video_allowed(assigned, PATIENT, NOW + timedelta(hours=2))
    assert not access.video_allowed(assigned, DOCTOR, NOW + timedelta(hours=2, seconds=1))
    assert not access.video_allowed(assigned, OTHER, NOW)
    assert access.chat_allowed(assigned, DOCTOR)


def test_turn_credentials_follow_the_shared_secret_scheme():
    servers = ice.ice_servers("u1", NOW, ("stun:a",), ("turn:b",), "s3cret", 300)
    username = f"{int(NOW.timestamp()) + 300}:u1"
    expected = base64.b64encode(hmac.new(b"s3cret", username.encode(), hashlib.sha1).digest()).decode()
    assert servers == {"iceServers": [{"urls": ["stun:a"]},
                                      {"urls": ["turn:b"], "username": username, "credential": expected}],
                       "ttl": 300}
    # Without a secret no TURN entry is offered (never an unauthenticated relay)
    assert ice.ice_servers("u1", NOW, ("stun:a",), ("turn:b",), "", 300)["iceServers"] == [{"urls": ["stun:a"]}]
