"""Issue 21 on the WebSocket API and its ICE servers: the party that causes a cost spends its own
budget. At most `WS_MAX_CONNECTIONS_PER_USER` live sockets per user (the oldest is closed), a
per-user frame budget split over them (still one round trip a frame), no socket outliving its
token, and TURN relays only for a participant of a call that is open now."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from tests.factories import json_headers, make_user
from tests.lambda_race import race_calls
from tests.signaling_support import Sockets, confirmed_appointment, fresh_sockets, ws_event


@pytest.fixture
def sockets(client, chalice_app, clock):
    with fresh_sockets(chalice_app) as driver:
        yield driver


def _settings(monkeypatch, **values: str) -> None:
    from functions.core import config

    for name, value in values.items():
        monkeypatch.setenv(name, value)
    config.reset_settings()


def _live(db, user) -> int:
    from functions.core import clock

    return db["connections"].count_documents({"userId": user["_id"], "expiresAt": {"$gt": clock.now()}})


def _ping(sockets: Sockets, cid: str) -> list[str]:
    sockets.send(cid, {"action": "ping"})
    return [f.get("code", f["type"]) for f in sockets.new_frames(cid)]


# ------------------------------------------------------------ connections per user

def test_a_fourth_socket_of_one_account_closes_its_oldest(sockets, db):
    # Given a patient holding three sockets, each of which has been answered
    patient = make_user("patient")
    first, *others = [sockets.open(patient) for _ in range(3)]
    for cid in (first, *others):
        assert _ping(sockets, cid) == ["pong"]
    # When the same account opens a fourth
    fourth = sockets.open(patient)
    # Then the oldest is closed and forgotten, and a frame it still sends is not served
    assert sockets.frames(first) == []  # moto forgets a connection the gateway was asked to close
    assert db["connections"].find_one({"_id": first}) is None
    sockets.send(first, {"action": "ping"})
    assert sockets.frames(first) == []
    # And the three newest still answer: the account holds exactly three
    for cid in (*others, fourth):
        assert _ping(sockets, cid) == ["pong"]
    assert _live(db, patient) == 3


def test_another_account_is_not_touched_by_a_user_over_the_cap(sockets, db):
    # Given a doctor with one socket, and a patient who opens ten
    doctor, patient = make_user("doctor"), make_user("patient")
    theirs = sockets.open(doctor)
    for _ in range(10):
        sockets.open(patient)
    # Then the patient keeps three and the doctor's socket still answers
    assert _live(db, patient) == 3
    assert _ping(sockets, theirs) == ["pong"]


def test_twenty_sockets_opened_at_once_leave_exactly_the_cap(client, chalice_app, clock, db, monkeypatch):
    # Given a cap of 3 sockets per user
    from functions.core.security import issue_token

    _settings(monkeypatch, WS_MAX_CONNECTIONS_PER_USER="3")
    patient = make_user("patient")
    token, _ = issue_token(patient)

    def connect(i: int) -> int:
        with fresh_sockets(chalice_app) as driver:
            event = ws_event("$connect", f"Race{i:04d}conn=", query={"token": token})
            return int(driver.invoke("ws_connect", event)["statusCode"])

    # When 20 of that user's `$connect`s run at the same moment, each in its own container
    statuses = race_calls(connect, 20)
    # Then every one was answered (let in, or refused having lost to newer ones) and exactly 3 stay
    assert set(statuses) <= {200, 429} and statuses.count(200) >= 3
    assert _live(db, patient) == 3


# ------------------------------------------------------------ frames per user

def test_frames_are_budgeted_per_user_across_the_users_sockets(sockets, clock, monkeypatch):
    # Given a budget of 20 frames a second per socket and 6 per user, and a patient with 3 sockets
    _settings(monkeypatch, WS_MAX_FRAMES_PER_SECOND="20", WS_MAX_FRAMES_PER_USER_PER_SECOND="6")
    patient = make_user("patient")
    cids = [sockets.open(patient) for _ in range(3)]
    # When each socket sends 5 pings within one second
    for cid in cids:
        for _ in range(5):
            sockets.send(cid, {"action": "ping"})
    # Then the user was served 6 in all (2 a socket), each socket told once that it is limited
    answers = [[f.get("code", f["type"]) for f in sockets.new_frames(cid)] for cid in cids]
    assert answers == [["pong", "pong", "rate_limited"]] * 3
    # And a second later each socket has its share again
    clock.advance(seconds=1)
    assert [_ping(sockets, cid) for cid in cids] == [["pong"]] * 3


def test_a_lone_socket_keeps_the_whole_per_socket_budget(sockets, monkeypatch):
    # Given a budget of 4 a socket and 40 a user, and a doctor with one socket
    _settings(monkeypatch, WS_MAX_FRAMES_PER_SECOND="4", WS_MAX_FRAMES_PER_USER_PER_SECOND="40")
    cid = sockets.open(make_user("doctor"))
    for _ in range(6):
        sockets.send(cid, {"action": "ping"})
    # Then the per-socket budget decides: 4 served
    assert [f.get("code", f["type"]) for f in sockets.new_frames(cid)] == ["pong"] * 4 + ["rate_limited"]


def test_frames_sent_at_once_over_three_sockets_serve_exactly_the_users_budget(client, chalice_app, clock, db,
                                                                               monkeypatch):
    # Given 6 frames a second per user and a patient with 3 sockets
    _settings(monkeypatch, WS_MAX_FRAMES_PER_SECOND="20", WS_MAX_FRAMES_PER_USER_PER_SECOND="6")
    patient = make_user("patient")
    with fresh_sockets(chalice_app) as driver:
        cids = [driver.open(patient) for _ in range(3)]

        def ping(i: int) -> int:
            cid = cids[i % 3]
            before = len(driver.frames(cid))
            driver.send(cid, {"action": "ping"})
            return [f["type"] for f in driver.frames(cid)[before:]].count("pong")

        # When 20 pings arrive at the same moment, each in its own container
        served = race_calls(ping, 20)
    # Then exactly 6 were served
    assert sum(served) == 6


# ------------------------------------------------------------ a socket does not outlive its token

def test_a_socket_is_closed_once_its_token_expires(sockets, clock, db, monkeypatch):
    # Given tokens valid for 30 minutes and a patient connected with one
    _settings(monkeypatch, JWT_TTL_SECONDS="1800")
    patient = make_user("patient")
    cid = sockets.open(patient)
    assert _ping(sockets, cid) == ["pong"]
    # When the token's expiry passes (the 2-hour connection cap has not)
    clock.advance(seconds=1801)
    sockets.send(cid, {"action": "ping"})
    # Then the frame is refused and the socket closed and forgotten
    assert sockets.frames(cid) == []
    assert db["connections"].find_one({"_id": cid}) is None


def test_a_socket_is_served_until_its_token_expires(sockets, clock, db, monkeypatch):
    # Given tokens valid for 30 minutes and a patient connected with one
    _settings(monkeypatch, JWT_TTL_SECONDS="1800")
    cid = sockets.open(make_user("patient"))
    # Then its record ends with the token, and a frame a second before that is served
    stored = db["connections"].find_one({"_id": cid})
    assert stored["expiresAt"] - stored["connectedAt"] == timedelta(minutes=30)
    clock.advance(seconds=1799)
    assert _ping(sockets, cid) == ["pong"]


# ------------------------------------------------------------ TURN relays only for an open call

def _ice(client, user, room_id=None):
    path = "/api/v1/rtc/ice-servers" + (f"?roomId={room_id}" if room_id else "")
    response = client.http.request("GET", path, headers=json_headers(user))
    return response.status_code, [server for server in json.loads(response.body).get("iceServers", [])
                                  if "credential" in server]


@pytest.fixture
def turn(monkeypatch):
    _settings(monkeypatch, TURN_URLS="turn:turn.example.test:3478", TURN_SECRET="shared-turn-secret")


def test_turn_credentials_go_only_to_a_participant_of_an_open_call(client, clock, turn):
    # Given a confirmed appointment starting in 10 minutes (its room is open), and a stranger
    appt, patient, doctor = confirmed_appointment(clock)
    stranger = make_user("patient")
    # Then both participants get a TURN credential for that room
    assert [len(_ice(client, who, appt["roomId"])[1]) for who in (patient, doctor)] == [1, 1]
    # And the stranger gets STUN only, with the room or without one (200: the page still works)
    assert _ice(client, stranger, appt["roomId"]) == (200, [])
    assert _ice(client, stranger) == (200, [])
    assert _ice(client, patient) == (200, [])


def test_no_turn_credentials_for_a_call_that_is_not_open(client, clock, turn):
    # Given an appointment tomorrow and a cancelled one starting now
    later, patient, doctor = confirmed_appointment(clock, starts_in=timedelta(days=1))
    cancelled, *_ = confirmed_appointment(clock, status="cancelled", patient=patient, doctor=doctor)
    # Then its participants get STUN only for either
    assert _ice(client, patient, later["roomId"]) == (200, [])
    assert _ice(client, doctor, cancelled["roomId"]) == (200, [])


def test_turn_credentials_for_an_emergency_a_doctor_accepted(client, clock, db, turn):
    from bson import ObjectId

    patient, doctor, stranger = make_user("patient"), make_user("doctor"), make_user("doctor")
    db["emergencies"].insert_one({"_id": ObjectId(), "roomId": "emergencyRoom0001", "patientId": patient["_id"],
                                  "doctorId": doctor["_id"], "status": "assigned", "acceptedAt": clock.current,
                                  "createdAt": clock.current})
    assert [len(_ice(client, who, "emergencyRoom0001")[1]) for who in (patient, doctor, stranger)] == [1, 1, 0]
