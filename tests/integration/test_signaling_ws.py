"""WebSocket signaling through the app's real ws_connect / ws_message / ws_disconnect Lambdas,
with moto's apigatewaymanagementapi recording what was posted (and botocore's Stubber for 410)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from botocore.stub import ANY, Stubber

from tests.commands import COMMANDS, names
from tests.factories import make_user
from tests.signaling_support import confirmed_appointment, fresh_sockets, in_call


@pytest.fixture
def sockets(client, chalice_app, clock):
    with fresh_sockets(chalice_app) as driver:
        yield driver


def test_connect_needs_a_valid_token(sockets, db):
    # Given a patient
    patient = make_user("patient")
    # When connecting without a token, with a forged one, and with a real one
    _, without = sockets.connect()
    _, forged = sockets.connect(token="eyJhbGciOiJIUzI1NiJ9.e30.forged")
    cid, valid = sockets.connect(patient)
    # Then only the real token is let in, and its connection is stored until the token expires
    # (1 hour, before API Gateway's 2-hour cap: issue 21)
    assert (without, forged, valid) == (403, 403, 200)
    conn = db["connections"].find_one({"_id": cid})
    assert conn["userId"] == patient["_id"]
    assert conn["expiresAt"] - conn["connectedAt"] == timedelta(hours=1)


def test_both_participants_join_and_get_ready(sockets, clock):
    # Given a confirmed appointment starting in 10 minutes
    appt, patient, doctor = confirmed_appointment(clock)
    p, d = sockets.open(patient), sockets.open(doctor)
    # When the patient joins, then the doctor
    sockets.send(p, {"action": "join-room", "roomId": appt["roomId"]})
    first = sockets.new_frames(p)
    sockets.send(d, {"action": "join-room", "roomId": appt["roomId"]})
    # Then the patient waits, and both get `ready`; the doctor (who came second) makes the offer
    assert first == [{"type": "joined", "roomId": appt["roomId"], "waiting": True}]
    assert sockets.new_frames(p) == [{"type": "ready", "roomId": appt["roomId"], "peer": str(doctor["_id"]),
                                      "initiator": False}]
    assert [f["type"] for f in sockets.new_frames(d)] == ["joined", "ready"]
    assert sockets.frames(d)[-1]["initiator"] is True


def test_only_participants_may_join_and_only_in_the_window(sockets, clock):
    # Given a confirmed appointment in 10 minutes, one in 2 hours, one that ended 31 minutes
    # ago, a pending one, and a stranger
    now_appt, patient, doctor = confirmed_appointment(clock)
    later, _, _ = confirmed_appointment(clock, starts_in=timedelta(hours=2), patient=patient, doctor=doctor)
    ended, _, _ = confirmed_appointment(clock, starts_in=timedelta(minutes=-61), patient=patient, doctor=doctor)
    pending, _, _ = confirmed_appointment(clock, status="pending", patient=patient, doctor=doctor,
                                          starts_in=timedelta(minutes=5))
    stranger = sockets.open(make_user("patient"))
    p = sockets.open(patient)
    # When each tries to join
    sockets.send(stranger, {"action": "join-room", "roomId": now_appt["roomId"]})
    for appt in (later, ended, pending):
        sockets.send(p, {"action": "join-room", "roomId": appt["roomId"]})
    sockets.send(p, {"action": "join-room", "roomId": "no-such-room-at-all"})
    # Then every attempt is refused the same way, and the connections stay usable
    refused = [f for f in sockets.frames(stranger) + sockets.frames(p)]
    assert [(f["type"], f["code"]) for f in refused] == [("error", "forbidden")] * 5
    sockets.send(p, {"action": "join-room", "roomId": now_appt["roomId"]})
    assert sockets.frames(p)[-1]["type"] == "joined"


def test_offer_answer_and_ice_go_only_to_the_peer(sockets, clock):
    # Given a patient and a doctor in a call, and another call going on next door
    appt, patient, doctor = confirmed_appointment(clock)
    p, d = in_call(sockets, appt, patient, doctor)
    other_appt, other_patient, other_doctor = confirmed_appointment(clock)
    op, od = in_call(sockets, other_appt, other_patient, other_doctor)
    # When the doctor offers, the patient answers, and the doctor trickles a candidate
    offer = {"type": "offer", "sdp": "v=0 doctor"}
    sockets.send(d, {"action": "offer", "roomId": appt["roomId"], "offer": offer})
    sockets.send(p, {"action": "answer", "roomId": appt["roomId"], "answer": {"type": "answer", "sdp": "v=0 p"}})
    sockets.send(d, {"action": "ice-candidate", "roomId": appt["roomId"], "candidate": {"candidate": "c1"}})
    # Then each frame reached the other member only, tagged with its sender
    assert sockets.new_frames(p) == [
        {"type": "offer", "roomId": appt["roomId"], "from": str(doctor["_id"]), "offer": offer},
        {"type": "ice-candidate", "roomId": appt["roomId"], "from": str(doctor["_id"]),
         "candidate": {"candidate": "c1"}},
    ]
    assert [f["type"] for f in sockets.new_frames(d)] == ["answer"]
    assert sockets.new_frames(op) == [] and sockets.new_frames(od) == []


def test_a_connection_cannot_inject_into_a_room_it_is_not_in(sockets, clock):
    # Given a call, and the same doctor's second connection that never joined
    appt, patient, doctor = confirmed_appointment(clock)
    p, _ = in_call(sockets, appt, patient, doctor)
    outsider = sockets.open(make_user("doctor"))
    # When the outsider sends an offer into the room
    sockets.send(outsider, {"action": "offer", "roomId": appt["roomId"], "offer": {"sdp": "evil"}})
    # Then it is refused and the patient gets nothing (D-52: the reference relayed it)
    assert sockets.types(outsider) == ["error"]
    assert sockets.frames(outsider)[-1]["code"] == "not_in_room"
    assert sockets.new_frames(p) == []


def test_an_offer_before_the_peer_arrives_is_refused(sockets, clock):
    appt, patient, _ = confirmed_appointment(clock)
    p = sockets.open(patient)
    sockets.send(p, {"action": "join-room", "roomId": appt["roomId"]})
    sockets.new_frames(p)
    # When the patient offers alone
    sockets.send(p, {"action": "offer", "roomId": appt["roomId"], "offer": {"sdp": "x"}})
    # Then they are told nobody is there
    assert [f["code"] for f in sockets.new_frames(p)] == ["no_peer"]


def test_a_new_connection_replaces_the_old_one_and_a_third_user_finds_the_room_full(sockets, clock, db):
    # Given a call in progress
    appt, patient, doctor = confirmed_appointment(clock)
    p_old, d = in_call(sockets, appt, patient, doctor)
    # When the patient's network drops (no $disconnect) and they come back on a new connection
    p_new = sockets.open(patient)
    sockets.send(p_new, {"action": "join-room", "roomId": appt["roomId"]})
    # Then both sides are ready again and the doctor's frames reach the new connection only
    assert [f["type"] for f in sockets.new_frames(p_new)] == ["joined", "ready"]
    assert [f["type"] for f in sockets.new_frames(d)] == ["ready"]
    sockets.send(d, {"action": "offer", "roomId": appt["roomId"], "offer": {"sdp": "again"}})
    assert [f["type"] for f in sockets.new_frames(p_new)] == ["offer"]
    assert sockets.new_frames(p_old) == []
    room = db["rooms"].find_one({"_id": appt["roomId"]})
    assert room["size"] == 2 and room["members"] == {str(patient["_id"]): p_new, str(doctor["_id"]): d}
    # And when the room somehow holds two other people, a participant is told it is full
    second, patient2, _ = confirmed_appointment(clock)
    db["rooms"].insert_one({"_id": second["roomId"], "size": 2, "members": {"a" * 24: "x", "b" * 24: "y"}})
    late = sockets.open(patient2)
    sockets.send(late, {"action": "join-room", "roomId": second["roomId"]})
    assert sockets.new_frames(late) == [{"type": "room-full", "roomId": second["roomId"]}]


def test_disconnect_tells_the_peer_and_frees_the_place(sockets, clock, db):
    appt, patient, doctor = confirmed_appointment(clock)
    p, d = in_call(sockets, appt, patient, doctor)
    # When the patient's socket closes
    sockets.disconnect(p)
    # Then the doctor hears it, the room keeps only the doctor, the connection is gone
    assert sockets.new_frames(d) == [{"type": "peer-left", "roomId": appt["roomId"], "peer": str(patient["_id"])}]
    room = db["rooms"].find_one({"_id": appt["roomId"]})
    assert room["size"] == 1 and list(room["members"]) == [str(doctor["_id"])]
    assert db["connections"].find_one({"_id": p}) is None
    assert db["connections"].find_one({"_id": d})["peer"] is None
    # And leave-room by the doctor empties it
    sockets.send(d, {"action": "leave-room", "roomId": appt["roomId"]})
    assert db["rooms"].find_one({"_id": appt["roomId"]})["size"] == 0


def test_bad_frames_get_an_error_and_the_connection_stays_usable(sockets, db):
    cid = sockets.open(make_user("patient"))
    # When it sends an oversized frame, broken JSON, a list, an unknown action and a bad field
    sockets.send(cid, json.dumps({"action": "ping", "pad": "x" * (33 * 1024)}))
    sockets.send(cid, "{not json")
    sockets.send(cid, "[1, 2]")
    sockets.send(cid, {"action": "launch-missiles"})
    sockets.send(cid, {"action": "join-room", "roomId": "../../etc", "extra": 1})
    sockets.send(cid, {"action": "ping"})
    # Then each is answered with a typed error, and the last ping still gets its pong
    frames = sockets.frames(cid)
    assert [f.get("code") for f in frames[:-1]] == ["too_large", "bad_request", "bad_request", "unknown_action",
                                                    "invalid"]
    assert {e["field"] for e in frames[4]["errors"]} == {"roomId", "extra"}
    assert frames[-1] == {"type": "pong"}


def test_frames_beyond_the_rate_are_refused_and_not_counted(sockets, clock, monkeypatch):
    from functions.core import config

    monkeypatch.setenv("WS_MAX_FRAMES_PER_SECOND", "3")
    config.reset_settings()
    cid = sockets.open(make_user("patient"))
    # When five frames arrive within one second, then one more a second later
    for _ in range(5):
        sockets.send(cid, {"action": "ping"})
    clock.advance(seconds=1)
    sockets.send(cid, {"action": "ping"})
    # Then three pass, the other two are refused with one answer (not one per frame), and the
    # next second has a fresh budget
    assert [f.get("code", f["type"]) for f in sockets.frames(cid)] == ["pong", "pong", "pong", "rate_limited", "pong"]


def test_a_gone_peer_is_removed_and_the_sender_is_told(sockets, clock, db):
    from functions.signaling import sender

    # Given a call whose patient vanished without a $disconnect
    appt, patient, doctor = confirmed_appointment(clock)
    p, d = in_call(sockets, appt, patient, doctor)
    client = sender._client()
    # When the doctor's offer meets 410 Gone
    with Stubber(client) as stub:
        stub.add_client_error("post_to_connection", service_error_code="GoneException", http_status_code=410,
                              expected_params={"ConnectionId": p, "Data": ANY})
        stub.add_response("post_to_connection", {}, {"ConnectionId": d, "Data": ANY})
        sockets.send(d, {"action": "offer", "roomId": appt["roomId"], "offer": {"sdp": "x"}})
        stub.assert_no_pending_responses()
    # Then the send is not retried, the stale connection and its membership are gone, and the
    # doctor (told peer-left) is alone in the room
    assert db["connections"].find_one({"_id": p}) is None
    room = db["rooms"].find_one({"_id": appt["roomId"]})
    assert list(room["members"]) == [str(doctor["_id"])]
    assert db["connections"].find_one({"_id": d})["peer"] is None


def test_a_relayed_frame_costs_one_database_round_trip_and_one_post(sockets, clock):
    from functions.core.db import close_client
    from functions.signaling import sender

    close_client()  # the app's next client is created with the listener registered
    appt, patient, doctor = confirmed_appointment(clock)
    p, d = in_call(sockets, appt, patient, doctor)
    frames = [{"action": "offer", "roomId": appt["roomId"], "offer": {"sdp": "o"}},
              {"action": "ice-candidate", "roomId": appt["roomId"], "candidate": {"candidate": "c"}}]
    for frame in frames:
        # When a frame is relayed
        posts = sender.posts
        with COMMANDS.record() as sent:
            sockets.send(d, frame)
        # Then it cost one findAndModify (rate count + room + peer) and one management post
        assert names(sent) == ["findAndModify"]
        assert sender.posts - posts == 1
    assert [f["type"] for f in sockets.new_frames(p)] == ["offer", "ice-candidate"]


def test_two_participants_joining_at_the_same_moment_are_paired_once(sockets, clock, db):
    import threading

    for _ in range(4):
        # Given a patient and a doctor connected to a room nobody has joined yet
        appt, patient, doctor = confirmed_appointment(clock)
        p, d = sockets.open(patient), sockets.open(doctor)
        barrier = threading.Barrier(2)

        def join(cid, barrier=barrier, room=appt["roomId"]):
            barrier.wait(timeout=30)
            sockets.send(cid, {"action": "join-room", "roomId": room})

        # When both join at once, each through its own Lambda invocation
        threads = [threading.Thread(target=join, args=(cid,)) for cid in (p, d)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        # Then exactly one pairing happened: one `ready` each, and each connection names the other
        assert [f["type"] for f in sockets.new_frames(p)].count("ready") == 1
        assert [f["type"] for f in sockets.new_frames(d)].count("ready") == 1
        assert db["connections"].find_one({"_id": p})["peer"] == d
        assert db["connections"].find_one({"_id": d})["peer"] == p
        assert db["rooms"].find_one({"_id": appt["roomId"]})["size"] == 2
