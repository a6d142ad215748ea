"""No input reaches a 500: every route, every kind of caller, hostile bodies and ids."""

import json
import re

from tests.factories import bearer, make_user

BODIES = [
    b"", b"null", b"[]", b'"text"', b"123", b"{", b'{"unknown": 1}',
    json.dumps({"doctor": {"$gt": ""}, "day": ["2026-03-03"], "time": 9}).encode(),  # operator injection
    json.dumps({"contact": {"$ne": None}, "password": {"$ne": None}}).encode(),
    json.dumps({"name": "x" * 100_000, "reason": "y" * 100_000}).encode(),
    json.dumps({"status": None, "active": "yes", "start": "never", "end": 5}).encode(),
    json.dumps({"weekly": {"monday": [{"start": "25:00", "end": "x"}]}, "slotMinutes": -5}).encode(),
]
IDS = ["not-an-id", "000000000000000000000000"]
QUERY = "?page=-1&limit=abc&status=%7B&q=(a%2B)%2B%24&speciality=%5B"


def test_no_route_answers_500_to_hostile_input(client, chalice_app):
    # Given one caller of each role, and anonymous
    callers = [None, *(make_user(role) for role in ("patient", "doctor", "admin"))]
    failures = []
    # When every route is called with malformed ids, bodies and query strings
    for path, methods in chalice_app.routes.items():
        for method in sorted(set(methods) - {"OPTIONS"}):
            for fake_id in IDS:
                concrete = re.sub(r"\{[^}]+\}", fake_id, path)
                for caller in callers:
                    headers = {"Content-Type": "application/json", **(bearer(caller) if caller else {})}
                    for raw in BODIES:
                        response = client.http.request(method, concrete + QUERY, headers=headers, body=raw)
                        if response.status_code >= 500:
                            failures.append((method, concrete, caller and caller["role"], raw[:40]))
                        elif response.headers.get("Content-Type", "").startswith("application/json"):
                            payload = json.loads(response.body)  # the API's own description is no envelope
                            assert payload.get("success") in (True, False) or "openapi" in payload
    # Then each answer is a 2xx/4xx in the envelope, never a server error
    assert failures == []


def test_extreme_dates_deep_json_and_malformed_tokens_are_4xx_on_every_route(client, chalice_app, clock):
    """Year 1 and year 9999 crashed the time-zone arithmetic (booking, rescheduling, time off and
    the public slots route); JSON nested 65 deep and a token whose `sv` is not a number too."""
    import jwt

    from tests.conftest import TEST_SECRET

    patient, doctor = make_user("patient"), make_user("doctor")
    now = int(clock.current.timestamp())
    bad_sv = jwt.encode({"sub": str(patient["_id"]), "role": "patient", "sv": "x", "jti": "j1", "iat": now,
                         "exp": now + 600, "iss": "cureconnect", "aud": "cureconnect-web"}, TEST_SECRET, "HS256")
    deep = ("[" * 65 + "]" * 65).encode()
    extreme = [json.dumps({"doctor": str(doctor["_id"]), "description": "d", "symptoms": "s", "day": day,
                           "time": "09:00", "start": f"{day}T00:00:00", "end": f"{day}T23:59:00"}).encode()
               for day in ("0001-01-01", "9999-12-31")]
    failures = []
    for path, methods in chalice_app.routes.items():
        for method in sorted(set(methods) - {"OPTIONS"}):
            concrete = re.sub(r"\{day\}", "9999-12-31", path)
            concrete = re.sub(r"\{doctor_id\}", str(doctor["_id"]), concrete)
            concrete = re.sub(r"\{[^}]+\}", "000000000000000000000000", concrete)
            for headers, raw in [({**bearer(patient)}, deep), ({**bearer(doctor)}, extreme[0]),
                                 ({**bearer(doctor)}, extreme[1]), ({**bearer(patient)}, extreme[1]),
                                 ({"Authorization": f"Bearer {bad_sv}"}, b"{}")]:
                response = client.http.request(method, concrete, body=raw,
                                               headers={"Content-Type": "application/json", **headers})
                if response.status_code >= 500:
                    failures.append((method, concrete, raw[:30]))
    assert failures == []
    # the public slots route says why
    for day in ("0001-01-01", "9999-12-31"):
        response = client.http.get(f"/api/v1/appointment/slots/{doctor['_id']}/{day}")
        assert response.status_code == 400 and json.loads(response.body)["code"] == "DATE_OUT_OF_RANGE"
