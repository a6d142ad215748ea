"""Authorization matrix: every route of the appointments domain, for every kind of caller.

Callers: anonymous, the appointment's patient, another patient, the appointment's doctor,
another doctor, a doctor awaiting approval, an admin. Each case starts from a fresh world with
one pending appointment tomorrow 09:00 (Asia/Kolkata), of a doctor who confirms bookings."""

import json

import pytest

from tests.appointments_support import book, doctor, patient
from tests.factories import json_headers, make_user
from tests.matrix import cases, unlisted

CALLERS = ("anonymous", "patient", "other_patient", "doctor", "other_doctor", "pending_doctor", "admin")


def expect(anonymous, **by_caller):
    default = by_caller.pop("default", None)
    return {"anonymous": anonymous, **{c: by_caller.get(c, default) for c in CALLERS if c != "anonymous"}}


DOCTOR_ONLY = expect(401, doctor=200, other_doctor=200, default=403)
TIME_OFF = {"start": "2026-03-10T09:00:00+05:30", "end": "2026-03-10T12:00:00+05:30", "reason": "conference"}
ROUTES = [
    ("GET", "/doctor/availability", None, DOCTOR_ONLY),
    ("PUT", "/doctor/availability", {"slotMinutes": 30}, DOCTOR_ONLY),
    ("POST", "/doctor/time-off", TIME_OFF, expect(401, doctor=201, other_doctor=201, default=403)),
    ("DELETE", "/doctor/time-off/{missing}", None, expect(401, doctor=404, other_doctor=404, default=403)),
    ("GET", "/appointment/slots/{doctor}/2026-03-04", None, expect(200, default=200)),
    ("POST", "/appointment/new", {"doctor": "{doctor}", "description": "d", "symptoms": "s", "day": "2026-03-04",
                                  "time": "10:00"}, expect(401, patient=201, other_patient=201, default=403)),
    ("GET", "/appointment/my", None, expect(401, patient=200, other_patient=200, doctor=200, other_doctor=200,
                                            default=403)),
    ("GET", "/appointment/{appt}", None, expect(401, patient=200, doctor=200, admin=200, pending_doctor=403,
                                                default=404)),
    ("PUT", "/appointment/{appt}/confirm", None, expect(401, doctor=200, patient=403, admin=403, pending_doctor=403,
                                                        default=404)),
    ("PUT", "/appointment/{appt}/complete", None, expect(401, doctor=409, patient=403, admin=403,
                                                         pending_doctor=403, default=404)),
    ("PUT", "/appointment/{appt}/no-show", None, expect(401, doctor=409, patient=403, admin=403,
                                                        pending_doctor=403, default=404)),
    ("PUT", "/appointment/{appt}/cancel", {"reason": "plans changed"},
     expect(401, patient=200, doctor=200, admin=403, pending_doctor=403, default=404)),
    ("DELETE", "/appointment/{appt}", None, expect(401, patient=200, doctor=200, admin=403, pending_doctor=403,
                                                   default=404)),
    ("PUT", "/appointment/{appt}/reschedule", {"day": "2026-03-05", "time": "11:00"},
     expect(401, patient=200, doctor=200, admin=403, pending_doctor=403, default=404)),
    # the waitlist (issue 24 §1): patients only, each their own entries
    ("POST", "/appointment/waitlist", {"doctor": "{doctor}", "day": "2026-03-05", "from": "09:00", "to": "12:00"},
     expect(401, patient=201, other_patient=201, default=403)),
    ("GET", "/appointment/waitlist/my", None, expect(401, patient=200, other_patient=200, default=403)),
    ("DELETE", "/appointment/waitlist/{missing}", None, expect(401, patient=404, other_patient=404, default=403)),
    ("PUT", "/appointment/waitlist/{missing}/accept", None, expect(401, patient=404, other_patient=404, default=403)),
    ("PUT", "/appointment/waitlist/{missing}/decline", None, expect(401, patient=404, other_patient=404, default=403)),
]


@pytest.fixture
def world(api):
    doc, pat = doctor(availability={"requiresConfirmation": True}), patient()
    appt = json.loads(book(api, pat, doc).body)["appointment"]
    return {"appt": appt["_id"], "doctor": doc, "callers": {
        "patient": pat, "other_patient": patient(), "doctor": doc, "other_doctor": doctor(),
        "pending_doctor": make_user("doctor", approved=False), "admin": make_user("admin")}}


def _fill(template, world):
    values = {"appt": world["appt"], "doctor": str(world["doctor"]["_id"]), "missing": "0" * 24}
    if isinstance(template, str):
        return template.format(**values)
    if isinstance(template, dict):
        return {k: _fill(v, world) for k, v in template.items()}
    return template


@pytest.mark.parametrize(("method", "path", "payload", "caller", "status"), cases(ROUTES, CALLERS))
def test_authorization_matrix(api, world, method, path, payload, caller, status):
    me = world["callers"].get(caller)
    raw = b"" if payload is None else json.dumps(_fill(payload, world)).encode()
    response = api.http.request(method, "/api/v1" + _fill(path, world), headers=json_headers(me), body=raw)
    assert response.status_code == status, response.body[:300]
    if status >= 400:
        assert "SECRET-SYMPTOM" not in response.body.decode()


def test_every_appointments_route_is_in_the_matrix(chalice_app):
    # (a row may name a day where the route has a placeholder)
    missing, extra = unlisted(chalice_app, "functions.appointments.routes", ROUTES, concrete=r"\d{4}-\d{2}-\d{2}")
    assert (missing, extra) == (set(), set())
