"""Booking with an `Idempotency-Key` (issue 19 §1): a retry gets the first answer and books nothing more."""

from __future__ import annotations

import json
from typing import Any

from bson import ObjectId

from tests.appointments_support import body, doctor, patient, sent_emails, tick
from tests.factories import json_headers
from tests.lambda_race import race


def _payload(doc: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"doctor": str(doc["_id"]), "description": "Recurring headache", "symptoms": "nausea",
            "day": "2026-03-03", "time": "09:00", **extra}


def _book(client: Any, who: dict[str, Any], payload: dict[str, Any], key: str | None) -> Any:
    headers = {**json_headers(who), **({"Idempotency-Key": key} if key else {})}
    response = client.http.post("/api/v1/appointment/new", headers=headers, body=json.dumps(payload).encode())
    tick()
    return response


def test_a_retry_with_the_same_key_answers_the_stored_booking_and_books_nothing_more(api: Any, db: Any) -> None:
    # Given a patient who booked with a key
    doc, pat = doctor(), patient()
    first = _book(api, pat, _payload(doc), "retry-1")
    assert first.status_code == 201, first.body
    claims, mails = db["appointment_claims"].count_documents({}), len(sent_emails())
    # When the client, never having seen the answer, sends it again with the same key and body
    again = _book(api, pat, _payload(doc), "retry-1")
    # Then it gets the same appointment, 201, and nothing more is booked, claimed or sent
    assert again.status_code == 201, again.body
    assert body(again)["appointment"]["_id"] == body(first)["appointment"]["_id"]
    assert body(again)["appointment"]["time"] == "09:00"
    assert db["appointments"].count_documents({"patient": pat["_id"]}) == 1
    assert db["appointment_claims"].count_documents({}) == claims
    assert len(sent_emails()) == mails


def test_the_same_key_for_another_booking_is_refused(api: Any, db: Any) -> None:
    doc, pat = doctor(), patient()
    assert _book(api, pat, _payload(doc), "k").status_code == 201
    # When the key is reused for another time
    reused = _book(api, pat, _payload(doc, time="10:00"), "k")
    # Then 422 IDEMPOTENCY_KEY_REUSED and no second appointment
    assert reused.status_code == 422 and body(reused)["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert db["appointments"].count_documents({"patient": pat["_id"]}) == 1


def test_a_retry_while_the_first_is_still_running_is_told_so(api: Any, db: Any) -> None:
    from functions.appointments.schemas import BookingIn
    from functions.core import clock, idempotency

    # Given a first request that claimed the key and has not stored its appointment yet
    doc, pat = doctor(), patient()
    payload = _payload(doc)
    print_ = idempotency.fingerprint(BookingIn(**payload).model_dump(mode="json"))
    assert idempotency.claim("booking", pat["_id"], "slow", ObjectId(), print_, clock.now()) is None
    # When the retry arrives
    retry = _book(api, pat, payload, "slow")
    # Then 409 REQUEST_IN_PROGRESS, nothing booked
    assert retry.status_code == 409 and body(retry)["code"] == "REQUEST_IN_PROGRESS"
    assert db["appointments"].count_documents({"patient": pat["_id"]}) == 0


def test_a_refused_booking_gives_its_key_back_and_without_a_key_nothing_changes(api: Any, db: Any) -> None:
    doc, pat, other = doctor(), patient(), patient()
    # Given the slot is taken by someone else (a booking without a key, as the frontend sends)
    taken = _book(api, other, _payload(doc), None)
    assert taken.status_code == 201
    # When the patient tries it with a key, then the same key for a free time
    refused = _book(api, pat, _payload(doc), "mine")
    assert refused.status_code == 409 and body(refused)["code"] == "SLOT_TAKEN"
    retried = _book(api, pat, _payload(doc), "mine")
    # Then the retry is refused for the slot again (the key was given back, not "in progress")
    assert retried.status_code == 409 and body(retried)["code"] == "SLOT_TAKEN"
    # And without a key a second identical booking is refused as before
    assert _book(api, other, _payload(doc), None).status_code == 409


def test_two_containers_sending_one_key_at_once_make_one_appointment(api: Any, db: Any, chalice_app: Any) -> None:
    doc, pat = doctor(), patient()
    payload = _payload(doc)
    outcomes = race(chalice_app, [("POST", "/appointment/new", pat, payload, {"Idempotency-Key": "twin"})] * 2)
    statuses = sorted(status for status, _ in outcomes)
    assert statuses in ([201, 201], [201, 409]), outcomes
    ids = {b["appointment"]["_id"] for s, b in outcomes if s == 201}
    assert len(ids) == 1
    assert {b.get("code") for s, b in outcomes if s == 409} <= {"REQUEST_IN_PROGRESS"}
    assert db["appointments"].count_documents({"patient": pat["_id"]}) == 1
