"""Issue 21, toll fraud: the emergency line dials only an on-call number its doctor proved by a
code texted to it, and only one of SMS_ALLOWED_REGIONS (`core.notify.sms_refusal`)."""

from __future__ import annotations

import json
import re
from typing import Any

from functions.core.db import get_db
from functions.emergency import on_call
from tests.appointments_support import body
from tests.factories import json_headers, make_user
from tests.lambda_race import race

PATH = "/api/v1/doctor/on-call"
CONFIRM = "/api/v1/doctor/on-call/confirm"


def call(client: Any, who: dict[str, Any], method: str, path: str, payload: Any = None) -> Any:
    raw = json.dumps(payload).encode() if payload is not None else b""
    return client.http.request(method, path, headers=json_headers(who), body=raw)


def code_texted_to(twilio: Any, number: str) -> str:
    [text] = [m["Body"] for m in twilio.sms if m["To"] == number]
    found = re.search(r"\b(\d{6})\b", text)
    assert found, text
    return found.group(1)


def test_a_premium_or_satellite_number_is_refused_and_never_dialled(api, twilio):
    # Given an approved doctor
    doctor = make_user("doctor")
    # When they set a satellite number (+881: typed "mobile" by phonenumbers, region 001) as on-call phone
    refused = call(api, doctor, "PUT", PATH, {"onCall": True, "phone": "+881631234567"})
    # Then it is refused, nothing is texted, and the line has nobody to dial
    assert refused.status_code == 422 and body(refused)["code"] == "INVALID_PHONE"
    assert "IN" in body(refused)["message"]
    assert twilio.sms == [] and on_call.numbers() == []


def test_a_new_on_call_number_is_dialled_only_once_its_code_is_confirmed(api, twilio):
    # Given an approved doctor registered by e-mail
    doctor = make_user("doctor")
    # When they go on call with a new number
    asked = call(api, doctor, "PUT", PATH, {"onCall": True, "phone": "98000 00001"})
    # Then a code is texted to it, the switch waits for it, and the line does not dial it yet
    assert asked.status_code == 200, asked.body
    assert body(asked)["onCall"] == {"onCall": False, "phone": None, "since": None,
                                     "pendingPhone": "+919800000001", "codeSent": True}
    assert on_call.numbers() == []
    code = code_texted_to(twilio, "+919800000001")
    # When they send a wrong code, then the right one
    wrong = call(api, doctor, "POST", CONFIRM, {"code": "000000" if code != "000000" else "111111"})
    right = call(api, doctor, "POST", CONFIRM, {"code": code})
    # Then the wrong one is refused; the right one puts them on call with that number, which the line dials
    assert wrong.status_code == 422 and body(wrong)["code"] == "INVALID_CODE"
    assert right.status_code == 200 and body(right)["onCall"]["onCall"] is True
    assert body(right)["onCall"]["phone"] == "+919800000001" and body(right)["onCall"]["codeSent"] is False
    assert on_call.numbers() == ["+919800000001"]
    # And the code works once
    assert call(api, doctor, "POST", CONFIRM, {"code": code}).status_code == 422


def test_an_unverified_account_phone_needs_a_code_too(api, twilio):
    # Given a doctor whose account phone was never verified
    doctor = make_user("doctor", contact="+919800000007", contactType="phone", contactVerified=False)
    # When they go on call without naming a phone
    asked = call(api, doctor, "PUT", PATH, {"onCall": True})
    # Then the account's phone gets a code and is not dialled yet
    assert body(asked)["onCall"]["pendingPhone"] == "+919800000007" and on_call.numbers() == []
    assert [m["To"] for m in twilio.sms] == ["+919800000007"]


def test_twenty_code_requests_at_once_text_exactly_three_codes(api, chalice_app):
    # Given a doctor (at most 3 on-call codes an hour)
    doctor = make_user("doctor")
    # When 20 containers ask for a code for 20 numbers at the same moment
    answers = race(chalice_app, [("PUT", "/doctor/on-call", doctor, {"onCall": True, "phone": f"+9198000001{i:02d}"},
                                  None) for i in range(20)])
    # Then exactly 3 were accepted, the others refused with TOO_MANY_CODES
    assert sorted(status for status, _ in answers).count(200) == on_call.ON_CALL_CODES_PER_HOUR
    assert {(s, b["code"]) for s, b in answers if s != 200} == {(429, "TOO_MANY_CODES")}


def test_twenty_guesses_at_once_use_exactly_the_codes_attempts(api, twilio, chalice_app):
    # Given a doctor with a code texted to a new number
    doctor = make_user("doctor")
    call(api, doctor, "PUT", PATH, {"onCall": True, "phone": "+919800000002"})
    code = code_texted_to(twilio, "+919800000002")
    wrong = "000000" if code != "000000" else "111111"
    # When 20 containers send a wrong code at the same moment
    answers = race(chalice_app, [("POST", "/doctor/on-call/confirm", doctor, {"code": wrong}, None)] * 20)
    # Then all are refused, exactly CODE_ATTEMPTS guesses were counted, and the right code is now used up
    assert {status for status, _ in answers} == {422}
    assert get_db()["on_call"].find_one({"_id": doctor["_id"]})["pending"]["attempts"] == on_call.CODE_ATTEMPTS
    assert call(api, doctor, "POST", CONFIRM, {"code": code}).status_code == 422
    assert on_call.numbers() == []
