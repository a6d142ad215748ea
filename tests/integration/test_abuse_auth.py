# ruff: noqa: F811  (pytest fixtures imported from tests.media_support and test_contact_verification)
"""Issue 21, the auth and upload part of the abuse model: every budget is spent by the party that
causes the cost. Each attack below passed before the change; each new limit is raced by 20
containers (tests/lambda_race)."""

import json
import time

import pytest
from bson import ObjectId

from tests.appointments_support import sent_emails
from tests.auth_support import auth, body, field_paths, register
from tests.factories import bearer, make_user
from tests.http import call
from tests.integration.test_contact_verification import sms  # noqa: F401 (the fixture)
from tests.lambda_race import race, race_calls
from tests.media_support import cloudinary_api  # noqa: F401 (the fixture)

CONTAINERS = 20
SATELLITE = "+881612345678"  # typed "mobile" by phonenumbers, in region 001


def _from_ip(client, monkeypatch, address):
    monkeypatch.setattr(client.http._local_gateway.event_converter, "LOCAL_SOURCE_IP", address)


def _reset_codes_to(contact):
    return [m for m in sent_emails() if "password reset" in m.subject and m.destinations["ToAddresses"] == [contact]]


# ---------------------------------------------------------------- item 8: nobody blocks another's recovery


def test_one_client_cannot_block_another_clients_recovery_of_the_same_contact(client, sms, monkeypatch):
    # Given a verified owner, and a stranger at one address asking for their reset code again and again
    owner = make_user("patient", contact="ravi@example.com")
    _from_ip(client, monkeypatch, "203.0.113.9")
    stranger = [call(client, "POST", "/password/forgot",
                     json={"contact": owner["contact"]}).status_code for _ in range(6)]
    # Then the stranger is stopped after three
    assert stranger == [200, 200, 200, 429, 429, 429]
    # When the owner asks from their own address
    _from_ip(client, monkeypatch, "198.51.100.7")
    mine = call(client, "POST", "/password/forgot", json={"contact": owner["contact"]})
    # Then they get their code
    assert mine.status_code == 200
    assert len(_reset_codes_to(owner["contact"])) == 4


def test_twenty_containers_asking_one_contacts_code_from_one_address_get_exactly_three(api, db, chalice_app):
    # Given a verified owner
    owner = make_user("patient", contact="ravi@example.com")
    # When twenty requests from one address ask for its reset code at once
    outcomes = race(chalice_app, [("POST", "/password/forgot", None, {"contact": owner["contact"]}, None)
                                  for _ in range(CONTAINERS)])
    # Then exactly three are answered, the others told to wait
    statuses = sorted(status for status, _ in outcomes)
    assert statuses == [200] * 3 + [429] * (CONTAINERS - 3)
    assert {b["code"] for s, b in outcomes if s == 429} == {"TOO_MANY_CODES"}


def test_twenty_containers_from_twenty_addresses_get_exactly_ten_codes_for_one_contact(db):
    from functions.auth import recovery
    from functions.auth.schemas import ForgotPasswordIn

    # When twenty addresses ask for one contact's code at once
    answers = race_calls(lambda i: recovery.forgot_password(ForgotPasswordIn(contact="ghost@example.com"),
                                                            f"10.0.0.{i}")["message"], CONTAINERS)
    # Then exactly ten are answered (the contact's budget), and the others refused
    refused = [a for a in answers if isinstance(a, tuple)]
    assert len(answers) - len(refused) == 10
    assert set(refused) == {("RateLimited", "TOO_MANY_CODES")}


# ---------------------------------------------------------------- item 3: SMS pumping


@pytest.mark.parametrize("number", [SATELLITE, "+14155552671"])
def test_sign_up_refuses_a_number_outside_the_sms_regions_with_a_clear_400(client, sms, db, number):
    # When someone signs up with a satellite or a US number (SMS_ALLOWED_REGIONS is IN)
    response = register(client, contact=number)
    # Then the sign-up is refused, naming the field, and nothing was made or sent
    assert response.status_code == 400 and body(response)["code"] == "INVALID_CONTACT"
    assert field_paths(response) == ["contact"] and "IN" in body(response)["message"]
    assert db.users.count_documents({}) == 0
    assert sms.sms == [] and db.notifications.count_documents({}) == 0


def test_an_indian_mobile_still_signs_up_and_gets_its_link(client, sms):
    response = register(client, contact="9876543210")
    assert response.status_code == 201
    assert [m["To"] for m in sms.sms] == ["+919876543210"]


def test_no_sms_goes_to_a_number_outside_the_regions_nor_waits_in_the_outbox(client, db, monkeypatch):
    # Given Twilio not configured (so an SMS would wait in the outbox) and an account holding +881
    from functions.core import notify

    holder = make_user("patient", contact=SATELLITE, contactType="phone", contactVerified=False)
    # When it asks for a verification code, and a code is sent to it directly
    asked = call(client, "POST", "/verify/contact/send", headers=bearer(holder))
    sent = notify.send("phone", SATELLITE, "code", "CureConnect: your code", kind="verification")
    # Then the request is refused with a clear 400, nothing is sent and nothing queued
    assert asked.status_code == 400 and body(asked)["code"] == "INVALID_CONTACT"
    assert sent is False and db.notifications.count_documents({}) == 0


def test_a_queued_sms_to_a_refused_number_is_given_up_unsent(client, sms, db, clock):
    # Given an SMS to +881 queued before the rule existed
    from functions.core import outbox

    db.notifications.insert_one({"kind": "verification", "ref": None, "channel": "phone", "to": SATELLITE,
                                 "subject": "s", "body": "b", "status": "pending", "attempts": 1,
                                 "nextAttemptAt": clock(), "createdAt": clock(), "updatedAt": clock()})
    # When the sweeper retries it
    outbox.deliver_due(now=clock())
    # Then nothing reaches Twilio and the message is given up at once (the worker's caps refuse it:
    # an entry whose earlier attempt was never marked admitted is checked again)
    assert sms.sms == []
    assert db.notifications.find_one({})["status"] == "dropped"


def test_one_address_cannot_make_many_accounts_ask_for_unlimited_code_sms(client, sms, monkeypatch):
    # Given six unverified phone accounts used from one address
    holders = [make_user("patient", contact=f"+9198000001{i:02d}", contactType="phone", contactVerified=False)
               for i in range(6)]
    _from_ip(client, monkeypatch, "203.0.113.50")
    # When each asks for two codes (12 requests; 3 an hour per account would allow all)
    statuses = [call(client, "POST", "/verify/contact/send", headers=bearer(h)).status_code
                for h in holders for _ in range(2)]
    # Then the address's ten code SMS went out and the rest were refused
    assert statuses == [200] * 10 + [429] * 2
    assert len(sms.sms) == 10


def test_code_sms_stop_at_the_global_hourly_budget(client, sms, monkeypatch):
    from functions.core import config

    monkeypatch.setenv("SMS_CODES_PER_HOUR", "2")
    config.reset_settings()
    holders = [make_user("patient", contact=f"+9198000002{i:02d}", contactType="phone", contactVerified=False)
               for i in range(3)]
    # When three accounts at three addresses ask for a code
    statuses = []
    for i, holder in enumerate(holders):
        _from_ip(client, monkeypatch, f"198.51.100.{i + 1}")
        statuses.append(call(client, "POST", "/verify/contact/send", headers=bearer(holder)))
    # Then two SMS go out, the third is refused with a clear 429
    assert [r.status_code for r in statuses] == [200, 200, 429]
    assert body(statuses[2])["code"] == "TOO_MANY_CODES" and "Retry-After" in statuses[2].headers
    assert len(sms.sms) == 2


def test_recovery_codes_by_sms_spend_the_numbers_budget_silently(client, sms, monkeypatch):
    # Given a verified phone owner, and strangers at eight addresses asking for its reset code
    owner = make_user("patient", contact="+919800000301", contactType="phone")
    answers = []
    for i in range(8):
        _from_ip(client, monkeypatch, f"192.0.2.{i + 1}")
        answers.append(call(client, "POST", "/password/forgot", json={"contact": owner["contact"]}))
    # Then every answer is the same, and the number got five SMS only
    assert {r.status_code for r in answers} == {200} and len({r.body for r in answers}) == 1
    assert len(sms.sms) == 5


@pytest.mark.parametrize(("budget", "number_of", "address_of", "everywhere", "expected"), [
    ("per number", lambda i: "+919800000401", lambda i: f"10.1.0.{i}", "500", 5),
    ("per address", lambda i: f"+9198000005{i:02d}", lambda i: "10.2.0.1", "500", 10),
    ("everywhere", lambda i: f"+9198000006{i:02d}", lambda i: f"10.3.0.{i}", "7", 7),
])
def test_twenty_containers_taking_code_sms_get_exactly_the_budget(db, monkeypatch, budget, number_of, address_of,
                                                                   everywhere, expected):
    from functions.auth import sms_codes
    from functions.core import clock, config

    # Given SMS_CODES_PER_HOUR, when twenty containers take a code SMS at once under one budget's key
    monkeypatch.setenv("SMS_CODES_PER_HOUR", everywhere)
    config.reset_settings()
    taken = race_calls(lambda i: sms_codes.try_take(number_of(i), address_of(i), clock.now()), CONTAINERS)
    # Then exactly that budget's number are taken
    assert taken.count(True) == expected, budget


# ---------------------------------------------------------------- item 13: weak passwords


@pytest.mark.parametrize("password", ["aaaaaaaa", "Password123!", "CureConnect2026!", "asharao2024!",
                                      "asha@example.com1"])
def test_weak_passwords_are_refused_at_sign_up(client, password):
    response = register(client, name="Asha Rao", contact="asha@example.com", password=password)
    assert response.status_code == 422 and body(response)["code"] == "WEAK_PASSWORD"
    assert field_paths(response) == ["password"]


def test_a_long_strong_password_of_128_characters_is_accepted(client):
    password = ("quokka-lantern-" * 9)[:127] + "Z"
    assert len(password) == 128
    assert register(client, password=password).status_code == 201
    assert register(client, contact="b@example.com", password=password + "x").status_code == 400


def test_password_strength_is_scored_with_each_callers_own_words_under_concurrency():
    from concurrent.futures import ThreadPoolExecutor

    from functions.auth.passwords import strength

    # Given one password that is weak for Asha Rao and fine for someone else
    jobs = [("asharao2024!", "asha@example.com", "Asha Rao"), ("asharao2024!", "ravi@example.com", "Ravi Kumar")]
    alone = [strength(*j) for j in jobs]
    assert alone[0] < 3 <= alone[1]
    # When many threads score it for both at once
    with ThreadPoolExecutor(8) as pool:
        scores = list(pool.map(lambda j: strength(*j), jobs * 20))
    # Then each caller's score is the one it gets alone
    assert scores == alone * 20


# ---------------------------------------------------------------- item 12: two session cookies


def test_two_token_cookies_are_refused_and_ours_is_cleared(client):
    # Given two accounts' tokens, one tossed in beside the other
    mine, tossed = (body(register(client, contact=c))["token"] for c in ("asha@example.com", "mallory@example.com"))
    # When a request carries both
    response = client.http.get("/api/v1/me", headers={"Cookie": f"token={mine}; token={tossed}"})
    # Then it is refused (neither wins), and our cookie is removed
    assert response.status_code == 401 and body(response)["code"] == "INVALID_TOKEN"
    assert response.headers["Set-Cookie"].startswith("token=;")
    # And one cookie still works
    alone = client.http.get("/api/v1/me", headers={"Cookie": f"theme=dark; token={mine}"})
    assert alone.status_code == 200 and body(alone)["user"]["contact"] == "asha@example.com"
    assert call(client, "GET", "/me", headers=auth(mine)).status_code == 200


# ---------------------------------------------------------------- item 11: dated upload notifications


@pytest.mark.parametrize(("skew", "expected"), [(600, 403), (-600, 403), (365 * 86400, 403), (120, 200), (-120, 200)])
def test_cloudinary_notifications_dated_outside_five_minutes_are_refused(client, cloudinary_api, db, skew, expected):
    from tests.media_support import notification, signed_headers

    raw = json.dumps(notification(f"cureconnect/avatar/{ObjectId()}/x1"))
    response = client.http.post("/api/v1/uploads/notify", body=raw.encode(),
                                headers=signed_headers(raw, timestamp=int(time.time()) + skew))
    assert response.status_code == expected
    assert db["media_assets"].count_documents({}) == (1 if expected == 200 else 0)
