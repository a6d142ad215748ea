"""Persisted chat: chat-join rules, messages stored and delivered, typing, read receipts, and the
history route with cursor pagination."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from tests.factories import json_headers, make_user
from tests.signaling_support import confirmed_appointment, fresh_sockets


@pytest.fixture
def sockets(client, chalice_app, clock):
    with fresh_sockets(chalice_app) as driver:
        yield driver


def chatting(sockets, clock, **kw):
    appt, patient, doctor = confirmed_appointment(clock, **kw)
    p, d = sockets.open(patient), sockets.open(doctor)
    for cid in (p, d):
        sockets.send(cid, {"action": "chat-join", "roomId": appt["roomId"]})
        assert sockets.types(cid) == ["chat-joined"]
    return appt, patient, doctor, p, d


def test_chat_is_for_the_participants_with_no_time_window(sockets, clock):
    # Given an appointment next week, a cancelled one, and a stranger
    appt, patient, _ = confirmed_appointment(clock, starts_in=timedelta(days=7))
    cancelled, _, _ = confirmed_appointment(clock, status="cancelled", patient=patient)
    p, stranger = sockets.open(patient), sockets.open(make_user("patient"))
    # When each joins a chat
    sockets.send(p, {"action": "chat-join", "roomId": appt["roomId"]})
    sockets.send(p, {"action": "chat-join", "roomId": cancelled["roomId"]})
    sockets.send(stranger, {"action": "chat-join", "roomId": appt["roomId"]})
    sockets.send(stranger, {"action": "user-message", "roomId": appt["roomId"], "text": "hi"})
    # Then the participant may chat a week ahead; a cancelled appointment and a stranger may not
    assert [f.get("code", f["type"]) for f in sockets.new_frames(p)] == ["chat-joined", "forbidden"]
    assert [f["code"] for f in sockets.new_frames(stranger)] == ["forbidden", "not_in_room"]


def test_a_message_is_stored_then_delivered_to_both(sockets, clock, db):
    appt, patient, _, p, d = chatting(sockets, clock)
    # When the patient writes
    sockets.send(p, {"action": "user-message", "roomId": appt["roomId"], "text": "  I feel better  "})
    # Then it is stored once and both get it with the same id, sender and time
    stored = db["messages"].find_one({"roomId": appt["roomId"]})
    expected = {"type": "message", "id": str(stored["_id"]), "roomId": appt["roomId"], "text": "I feel better",
                "sender": str(patient["_id"]), "senderName": patient["name"], "sentAt": "2026-03-02T10:00:00.000Z",
                "readAt": None}
    assert sockets.new_frames(d) == [expected] and sockets.new_frames(p) == [expected]
    assert stored["senderId"] == patient["_id"] and stored["readAt"] is None


def test_message_length_is_one_to_two_thousand_characters(sockets, clock, db):
    appt, _, _, p, _ = chatting(sockets, clock)
    for text in ("", "   ", "x" * 2001):
        sockets.send(p, {"action": "user-message", "roomId": appt["roomId"], "text": text})
    sockets.send(p, {"action": "user-message", "roomId": appt["roomId"], "text": "x" * 2000})
    assert [f.get("code", f["type"]) for f in sockets.new_frames(p)] == ["invalid"] * 3 + ["message"]
    assert db["messages"].count_documents({}) == 1


def test_typing_goes_to_the_other_side_only_and_is_not_stored(sockets, clock, db):
    appt, patient, _, p, d = chatting(sockets, clock)
    sockets.send(p, {"action": "typing", "roomId": appt["roomId"]})
    assert sockets.new_frames(d) == [{"type": "typing", "roomId": appt["roomId"], "from": str(patient["_id"])}]
    assert sockets.new_frames(p) == []
    assert db["messages"].count_documents({}) == 0


def test_the_reader_marks_a_message_read_and_the_sender_is_told(sockets, clock, db):
    appt, _, _, p, d = chatting(sockets, clock)
    sockets.send(p, {"action": "user-message", "roomId": appt["roomId"], "text": "results?"})
    message_id = sockets.new_frames(d)[0]["id"]
    sockets.new_frames(p)
    # When the sender tries to mark their own message, then the doctor reads it, twice
    sockets.send(p, {"action": "message-read", "id": message_id})
    own = sockets.new_frames(p)
    clock.advance(seconds=5)
    sockets.send(d, {"action": "message-read", "id": message_id})
    sockets.send(d, {"action": "message-read", "id": message_id})
    # Then only the doctor's first read counts, and the patient is told when
    assert own[0]["code"] == "not_found"
    assert sockets.new_frames(p) == [{"type": "message-read", "id": message_id, "roomId": appt["roomId"],
                                      "readAt": "2026-03-02T10:00:05.000Z"}]
    assert [f.get("code") for f in sockets.new_frames(d)] == ["not_found"]
    assert db["messages"].find_one()["readAt"] is not None


def history(client, user, room_id, query=""):
    response = client.http.get(f"/api/v1/chat/{room_id}/messages{query}", headers=json_headers(user))
    return response.status_code, json.loads(response.body)


def test_history_is_newest_first_with_a_cursor_and_only_for_participants(sockets, client, clock):
    appt, patient, doctor, p, _ = chatting(sockets, clock)
    for n in range(5):
        sockets.send(p, {"action": "user-message", "roomId": appt["roomId"], "text": f"m{n}"})
        clock.advance(seconds=1)
    # When the doctor pages through two at a time
    status, first = history(client, doctor, appt["roomId"], "?limit=2")
    _, second = history(client, doctor, appt["roomId"], f"?limit=2&before={first['nextBefore']}")
    _, last = history(client, doctor, appt["roomId"], f"?limit=2&before={second['nextBefore']}")
    # Then the pages are newest first, without overlap, and the last says there is no more
    assert status == 200
    assert [[m["text"] for m in page["messages"]] for page in (first, second, last)] == [
        ["m4", "m3"], ["m2", "m1"], ["m0"]]
    assert (first["hasMore"], second["hasMore"], last["hasMore"]) == (True, True, False)
    # And a stranger, an unknown room and a malformed cursor get nothing
    assert history(client, make_user("doctor"), appt["roomId"])[0] == 404
    assert history(client, patient, "no-such-room-123")[0] == 404
    assert history(client, patient, appt["roomId"], "?before=zzz")[0] == 400
    assert history(client, None, appt["roomId"])[0] == 401
