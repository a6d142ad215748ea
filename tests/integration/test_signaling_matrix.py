"""Authorization matrix: every REST route of the signaling domain, for every kind of caller.

Callers: anonymous; the appointment's patient and doctor; another patient and another doctor
(strangers); a pharmacist; an admin; a doctor awaiting approval. {room} is the confirmed
appointment's room, {appt} its id, {doctor} its doctor's id.
"""

import json

import pytest

from tests.factories import json_headers, make_user
from tests.matrix import unlisted
from tests.signaling_support import confirmed_appointment

CALLERS = ("anonymous", "patient", "doctor", "other_patient", "other_doctor", "pharmacist", "admin", "pending")


def expect(anonymous=401, **by_caller):
    default = by_caller.pop("default", 403)
    return {"anonymous": anonymous, **{c: by_caller.get(c, default) for c in CALLERS if c != "anonymous"}}


ROUTES = [
    ("POST", "/notify-doctor-joined", {"appointmentId": "{appt}"}, expect(doctor=200, other_doctor=404)),
    ("GET", "/user/{doctor}", None, expect(default=404, patient=200, doctor=200, admin=200, pending=403)),
    ("GET", "/rtc/ice-servers", None, expect(patient=200, doctor=200, other_patient=200, other_doctor=200,
                                              admin=200)),
    ("GET", "/chat/{room}/messages", None, expect(patient=200, doctor=200, other_patient=404, other_doctor=404)),
]


@pytest.fixture
def world(api, clock):
    appt, patient, doctor = confirmed_appointment(clock)
    people = {"anonymous": None, "patient": patient, "doctor": doctor, "other_patient": make_user("patient"),
              "other_doctor": make_user("doctor"), "pharmacist": make_user("pharmacist"),
              "admin": make_user("admin"), "pending": make_user("doctor", approved=False)}
    return people, {"room": appt["roomId"], "appt": str(appt["_id"]), "doctor": str(doctor["_id"])}


def _fill(value, ids):
    text = json.dumps(value) if not isinstance(value, str) else value
    for key, concrete in ids.items():
        text = text.replace("{" + key + "}", concrete)
    return text


@pytest.mark.parametrize(("method", "path", "payload", "statuses"), ROUTES, ids=[f"{m} {p}" for m, p, *_ in ROUTES])
def test_authorization_matrix(api, world, method, path, payload, statuses):
    people, ids = world
    for caller in CALLERS:
        # When each kind of caller calls the route
        body = _fill(payload, ids).encode() if payload is not None else b""
        response = api.http.request(method, "/api/v1" + _fill(path, ids), headers=json_headers(people[caller]),
                                    body=body)
        # Then the answer is the one the matrix names (404 where the caller may not see the resource)
        assert (caller, response.status_code) == (caller, statuses[caller]), response.body
        if method == "POST" and response.status_code == 200:
            from functions.core.db import get_db

            get_db()["rate_limits"].delete_many({})  # the next caller is not rate limited


def test_every_signaling_route_is_in_the_matrix(chalice_app):
    # A route added later without a row here fails this test
    assert unlisted(chalice_app, "functions.signaling.routes", ROUTES) == (set(), set())
