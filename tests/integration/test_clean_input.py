"""One rule for text from a client: NUL and unpaired surrogates are refused (400 naming the
field) in JSON and form bodies, queries and path parameters, before anything is written. Before
it, the embedded database's PostgreSQL refused NUL mid-write: 500s with tracebacks, and bookings
that left their slot claims behind (ghost bookings)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest

from tests.appointments_support import body, book, doctor, get, patient
from tests.auth_support import register
from tests.http import call

UNUSABLE = "must not contain NUL characters or unpaired surrogates"


def _refused(response: Any, field: str) -> None:
    assert response.status_code == 400, response.body
    answer = body(response)
    assert answer["code"] == "VALIDATION_FAILED"
    assert answer["errors"] == [{"field": field, "message": UNUSABLE}]
    assert answer["message"] == f"{field}: {UNUSABLE}"


@pytest.mark.parametrize(("path", "payload", "field"), [
    ("/login", {"contact": "asha@example.com\x00", "password": "whatever-it-is"}, "contact"),
    ("/password/forgot", {"contact": "\x00"}, "contact"),
    ("/login", {"contact": "asha@example.com", "password": "pass\ud800word"}, "password"),
])
def test_signed_out_routes_refuse_nul_and_lone_surrogates(client: Any, path: str, payload: dict[str, str],
                                                          field: str) -> None:
    # json.dumps writes "\u0000" and a lone "\ud800" as the escapes a client would send
    _refused(call(client, "POST", path, json=payload), field)


def test_a_sign_up_form_with_nul_in_a_field_writes_nothing(client: Any, db: Any) -> None:
    # Given the sign-up form of the frontend (multipart) with a NUL in the name
    boundary = "----cc"
    parts = [("name", "Asha\x00Rao"), ("contact", "asha@example.com"), ("password", "correct horse battery 42")]
    raw = "".join(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n" for k, v in parts)
    raw += f"--{boundary}--\r\n"
    response = client.http.post("/api/v1/register", body=raw.encode(),
                                headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    # Then it is refused naming the field, and no account exists
    _refused(response, "name")
    assert db.users.count_documents({}) == 0
    assert register(client, contact="asha@example.com").status_code == 201


def test_queries_and_path_parameters_follow_the_same_rule(client: Any) -> None:
    _refused(client.http.get("/api/v1/doctors?q=" + quote("card\x00")), "q")
    _refused(client.http.get("/api/v1/prescription/verify/" + quote("RX\x00", safe="")), "code")


def test_nested_fields_are_named_by_their_path(client: Any) -> None:
    response = call(client, "POST", "/login", json={"contact": "a@example.com", "password": "x",
                                               "extra": [{"note": "\x00"}]})
    _refused(response, "extra.0.note")


def test_a_nul_in_a_booking_leaves_the_slot_bookable(api: Any, db: Any) -> None:
    # Given a doctor's free 09:00 slot, When 8 patients book it with a NUL in the symptoms
    doc = doctor()
    for _ in range(8):
        _refused(book(api, patient(), doc, time="09:00", symptoms="fever\x00"), "symptoms")
    # Then nothing was claimed: the slot is still offered and an honest booking gets it
    slots = body(get(api, patient(), f"/appointment/slots/{doc['_id']}/2026-03-03"))
    assert "09:00" in json.dumps(slots)
    assert book(api, patient(), doc, time="09:00").status_code == 201
    assert db.appointments.count_documents({}) == 1
