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
                        else:
                            assert json.loads(response.body)["success"] in (True, False)
    # Then each answer is a 2xx/4xx in the envelope, never a server error
    assert failures == []
