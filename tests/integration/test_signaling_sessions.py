"""A socket lives no longer than the token it was opened with: logging that token out, changing
or resetting the password, deactivating the account and withdrawing a doctor's approval close the
WebSocket connections at once (through the real ws_* Lambdas and moto's management API), instead
of API Gateway keeping them open, and relaying, until their 2-hour cap."""

from __future__ import annotations

from typing import Any

import pytest

from functions.core.security import issue_token
from tests.appointments_support import sent_emails
from tests.auth_support import auth
from tests.factories import PASSWORD, bearer, make_user
from tests.http import call
from tests.signaling_support import confirmed_appointment, fresh_sockets


@pytest.fixture
def sockets(client, chalice_app, clock):
    with fresh_sockets(chalice_app) as driver:
        yield driver


def _open_with(sockets: Any, token: str) -> str:
    """A connection opened with this token that has received a frame (so moto holds it)."""
    cid, status = sockets.connect(token=token)
    assert status == 200
    sockets.send(cid, {"action": "ping"})
    assert sockets.types(cid) == ["pong"]
    return cid


def _closed(sockets: Any, cid: str) -> bool:
    """Asked to close through the management API (moto forgets the connection's frames)."""
    return sockets.frames(cid) == []


def test_logging_a_token_out_closes_only_the_sockets_opened_with_it(sockets, client, db):
    # Given a patient signed in on two devices, each with a socket
    patient = make_user("patient")
    laptop, phone = issue_token(patient)[0], issue_token(patient)[0]
    on_laptop, on_phone = _open_with(sockets, laptop), _open_with(sockets, phone)
    # When the laptop logs out
    assert call(client, "GET", "/logout", headers=auth(laptop)).status_code == 200
    # Then the laptop's socket is closed and forgotten; the phone's still answers
    assert _closed(sockets, on_laptop)
    assert db["connections"].find_one({"_id": on_laptop}) is None
    sockets.send(on_phone, {"action": "ping"})
    assert sockets.types(on_phone) == ["pong"]
    # And a frame the closed socket still manages to send is refused, not served
    sockets.send(on_laptop, {"action": "ping"})
    assert sockets.frames(on_laptop) == []


def test_a_password_change_closes_every_socket_of_the_user(sockets, client, db):
    patient = make_user("patient")
    one, two = issue_token(patient)[0], issue_token(patient)[0]
    cids = [_open_with(sockets, one), _open_with(sockets, two)]
    other = _open_with(sockets, issue_token(make_user("patient"))[0])
    response = call(client, "PUT", "/password/update",
                    json={"oldPassword": PASSWORD, "newPassword": "a-brand-new-secret-42"}, headers=auth(one))
    assert response.status_code == 200
    assert all(_closed(sockets, cid) for cid in cids)
    assert db["connections"].count_documents({"userId": patient["_id"]}) == 0
    # Another user's socket is untouched
    sockets.send(other, {"action": "ping"})
    assert sockets.types(other) == ["pong"]


def test_the_peer_of_a_closed_socket_hears_that_it_left(sockets, client, clock):
    # Given a patient and a doctor in a call
    appt, patient, doctor = confirmed_appointment(clock)
    patient_token = issue_token(patient)[0]
    p, d = _open_with(sockets, patient_token), _open_with(sockets, issue_token(doctor)[0])
    sockets.send(p, {"action": "join-room", "roomId": appt["roomId"]})
    sockets.send(d, {"action": "join-room", "roomId": appt["roomId"]})
    sockets.new_frames(d)
    # When the patient logs out
    call(client, "GET", "/logout", headers=auth(patient_token))
    # Then the doctor is told the patient left
    assert [f["type"] for f in sockets.new_frames(d)] == ["peer-left"]


@pytest.mark.parametrize(("path", "payload"), [
    ("/active", {"active": False, "reason": "abuse"}),
    ("/approval", {"status": "rejected", "reason": "licence expired"}),
], ids=["deactivation", "approval withdrawn"])
def test_an_admin_decision_closes_the_users_sockets(sockets, client, db, path, payload):
    doctor = make_user("doctor")
    cid = _open_with(sockets, issue_token(doctor)[0])
    admin = make_user("admin")
    response = call(client, "PUT", f"/admin/user/{doctor['_id']}{path}", json=payload, headers=bearer(admin))
    assert response.status_code == 200
    assert _closed(sockets, cid)
    assert db["connections"].find_one({"_id": cid}) is None


def test_approving_a_doctor_leaves_the_sockets_open(sockets, client, db):
    doctor = make_user("doctor")
    cid = _open_with(sockets, issue_token(doctor)[0])
    response = call(client, "PUT", f"/admin/user/{doctor['_id']}/approval", json={"status": "approved"},
                    headers=bearer(make_user("admin")))
    assert response.status_code == 200
    sockets.send(cid, {"action": "ping"})
    assert sockets.new_frames(cid)[-1]["type"] == "pong"


def test_a_password_reset_closes_every_socket_of_the_user(sockets, client, monkeypatch):
    # Given a verified owner with a socket, and e-mail configured (the code goes by SES)
    import re

    import boto3

    from functions.core import config

    monkeypatch.setenv("SES_FROM_EMAIL", "no-reply@cureconnect.test")
    config.reset_settings()
    boto3.client("ses").verify_email_identity(EmailAddress="no-reply@cureconnect.test")
    owner = make_user("patient", contact="ravi@example.com")
    cid = _open_with(sockets, issue_token(owner)[0])
    # When they recover the account with the code they were sent
    call(client, "POST", "/password/forgot", json={"contact": "ravi@example.com"})
    code = re.search(r"\b(\d{6})\b", sent_emails()[-1].body).group(1)
    response = call(client, "POST", "/password/reset", json={"contact": "ravi@example.com", "code": code,
                                                         "newPassword": "a-fresh-start-42"})
    # Then the socket opened before the reset is closed
    assert response.status_code == 200
    assert _closed(sockets, cid)


def test_a_failure_to_close_sockets_does_not_undo_or_fail_the_logout(sockets, client, monkeypatch):
    # Given a signed-in patient, and a database that fails while the sockets are being closed
    from pymongo.errors import AutoReconnect

    from functions.signaling import api as signaling

    token = issue_token(make_user("patient"))[0]

    def failing(*args, **kwargs):
        raise AutoReconnect("connection reset")

    monkeypatch.setattr(signaling, "end_sessions", failing)
    # When they log out; Then the logout succeeded, and the token no longer works
    assert call(client, "GET", "/logout", headers=auth(token)).status_code == 200
    assert call(client, "GET", "/me", headers=auth(token)).status_code == 401


def test_the_sweep_closes_what_a_decision_could_not_and_spares_sockets_opened_after(sockets, client, db, clock,
                                                                                   monkeypatch):
    # Given a doctor with a socket, and a gateway/database that fails while the rejection closes it
    from pymongo.errors import AutoReconnect

    from functions.auth import sweep as auth_sweep
    from functions.signaling import api as signaling

    doctor, admin = make_user("doctor"), make_user("admin")
    before = _open_with(sockets, issue_token(doctor)[0])
    real = signaling.end_sessions

    def failing(*args, **kwargs):
        raise AutoReconnect("connection reset")

    monkeypatch.setattr(signaling, "end_sessions", failing)
    # When the admin rejects them (the answer is the decision; the socket stayed open)
    rejected = call(client, "PUT", f"/admin/user/{doctor['_id']}/approval",
                    json={"status": "rejected", "reason": "licence expired"}, headers=bearer(admin))
    assert rejected.status_code == 200
    assert db.audit_log.count_documents({"action": "approval.rejected", "subjectId": doctor["_id"]}) == 1
    sockets.send(before, {"action": "ping"})
    assert sockets.types(before) == ["pong"]
    monkeypatch.setattr(signaling, "end_sessions", real)
    # And a minute later approves them again, and the doctor opens a new socket
    clock.advance(minutes=1)
    assert call(client, "PUT", f"/admin/user/{doctor['_id']}/approval", json={"status": "approved"},
                headers=bearer(admin)).status_code == 200
    after = _open_with(sockets, issue_token(doctor)[0])
    # When the sweep runs
    result = auth_sweep.sweep()
    # Then the socket opened before the rejection is closed, the new one still answers
    assert result == {"socketsClosed": 1, "socketDecisionsSettled": 1}
    assert _closed(sockets, before)
    sockets.send(after, {"action": "ping"})
    assert sockets.types(after) == ["pong"]
    # And a second sweep has nothing left to do
    assert auth_sweep.sweep() == {"socketsClosed": 0, "socketDecisionsSettled": 0}
