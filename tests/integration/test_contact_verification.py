"""Contact verification, account recovery and the message caps of the one notifier."""

import re

import pytest

from tests.appointments_support import FakeTwilio, sent_emails
from tests.auth_support import auth, body, call, login, register
from tests.factories import PASSWORD, bearer, make_user


@pytest.fixture
def sms(client, monkeypatch):
    """Twilio configured, its transport recorded; SES sender verified in moto."""
    import boto3

    from functions.core import config, notify

    for key, value in {"TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "TWILIO_AUTH_TOKEN": "t",
                       "TWILIO_FROM_NUMBER": "+15005550006", "SES_FROM_EMAIL": "no-reply@cureconnect.test"}.items():
        monkeypatch.setenv(key, value)
    config.reset_settings()
    boto3.client("ses").verify_email_identity(EmailAddress="no-reply@cureconnect.test")
    fake = FakeTwilio()
    monkeypatch.setattr(notify, "twilio_http_client", lambda: fake)
    return fake


def _code(text):
    return re.search(r"\b(\d{6})\b", text).group(1)


def _last_email_code():
    return _code(sent_emails()[-1].body)


def test_a_new_account_verifies_its_contact_with_a_six_digit_code(client, sms, db):
    # Given a user who just signed up (not verified)
    token = body(register(client))["token"]
    assert body(call(client, "GET", "/me", headers=auth(token)))["user"]["contactVerified"] is False
    # When they ask for a code and confirm it
    sent = call(client, "POST", "/verify/contact/send", headers=auth(token))
    assert sent.status_code == 200 and body(sent)["expiresInSeconds"] == 600
    code = _last_email_code()
    assert code not in str(db.users.find_one({"contact": "asha@example.com"}))  # stored hashed only
    confirmed = call(client, "POST", "/verify/contact/confirm", {"code": code}, headers=auth(token))
    # Then the contact is verified, and a second confirmation changes nothing
    assert confirmed.status_code == 200 and body(confirmed)["user"]["contactVerified"] is True
    assert body(call(client, "GET", "/me", headers=auth(token)))["user"]["contactVerified"] is True
    assert call(client, "POST", "/verify/contact/send", headers=auth(token)).status_code == 409


def test_a_code_takes_five_guesses_and_ten_minutes_at_most(client, sms, clock):
    token = body(register(client))["token"]
    call(client, "POST", "/verify/contact/send", headers=auth(token))
    code = _last_email_code()
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        assert call(client, "POST", "/verify/contact/confirm", {"code": wrong}, headers=auth(token)).status_code == 422
    # the right code no longer works once the guesses are used up
    used_up = call(client, "POST", "/verify/contact/confirm", {"code": code}, headers=auth(token))
    assert used_up.status_code == 422 and body(used_up)["code"] == "INVALID_CODE"
    # a new code, once expired, does not work either
    call(client, "POST", "/verify/contact/send", headers=auth(token))
    clock.advance(minutes=10, seconds=1)
    assert call(client, "POST", "/verify/contact/confirm", {"code": _last_email_code()},
                headers=auth(token)).status_code == 422
    # and resending is limited: three codes an hour
    assert call(client, "POST", "/verify/contact/send", headers=auth(token)).status_code == 200
    limited = call(client, "POST", "/verify/contact/send", headers=auth(token))
    assert limited.status_code == 429 and "Retry-After" in limited.headers


@pytest.mark.parametrize("code", ["12345", "1234567", "abcdef", ""])
def test_malformed_codes_are_400(client, code):
    token = body(register(client))["token"]
    assert call(client, "POST", "/verify/contact/confirm", {"code": code}, headers=auth(token)).status_code == 400


def test_sms_go_only_to_verified_numbers_and_codes_reach_unverified_ones(client, sms, db):
    # Given an unverified phone account
    token = body(register(client, contact="+919876543210"))["token"]
    # When a notice would go to it, nothing is sent; a verification code is
    from functions.core import notify

    assert notify.send("phone", "+919876543210", "s", "CureConnect: notice", kind="booked") is False
    assert sms.sms == []
    call(client, "POST", "/verify/contact/send", headers=auth(token))
    assert len(sms.sms) == 1
    # And once verified, notices go out
    call(client, "POST", "/verify/contact/confirm", {"code": _code(sms.sms[0]["Body"])}, headers=auth(token))
    assert notify.send("phone", "+919876543210", "s", "CureConnect: notice", kind="booked") is True
    assert db.notifications.count_documents({}) == 0  # dropped messages are never queued


def test_unverified_addresses_get_three_emails_a_day_and_everyone_at_most_twenty(client, sms, clock):
    from functions.core import notify

    register(client)
    assert [notify.send("email", "asha@example.com", "s", "b", kind="booked") for _ in range(4)] == \
        [True, True, True, False]
    verified = make_user("patient")
    results = [notify.send("email", verified["contact"], "s", "b", kind="booked") for _ in range(21)]
    assert results.count(True) == 20 and results[-1] is False
    clock.advance(days=1)
    assert notify.send("email", verified["contact"], "s", "b", kind="booked") is True


def test_forgot_password_answers_the_same_and_sends_only_to_verified_contacts(client, sms):
    # Given one unverified account and one verified account
    register(client)
    owner = make_user("patient", contact="ravi@example.com")
    # When both, and a stranger, ask for a reset
    answers = [call(client, "POST", "/password/forgot", {"contact": c})
               for c in ("asha@example.com", "ravi@example.com", "ghost@example.com")]
    # Then the answers are identical, and only the verified contact got a code
    assert {a.status_code for a in answers} == {200} and len({a.body for a in answers}) == 1
    assert [m.destinations["ToAddresses"] for m in sent_emails()] == [[owner["contact"]]]


def test_a_reset_sets_the_password_ends_every_session_and_lifts_the_lockout(client, sms):
    # Given a verified owner with a live session, locked out by failures
    owner = make_user("patient", contact="ravi@example.com")
    session = bearer(owner)
    for _ in range(5):
        login(client, "ravi@example.com", "wrong-guess-1")
    assert login(client, "ravi@example.com").status_code == 429
    # When they recover the account
    call(client, "POST", "/password/forgot", {"contact": "ravi@example.com"})
    code = _last_email_code()
    weak = call(client, "POST", "/password/reset", {"contact": "ravi@example.com", "code": code,
                                                     "newPassword": "password1"})
    assert weak.status_code == 422
    reset = call(client, "POST", "/password/reset", {"contact": "ravi@example.com", "code": code,
                                                      "newPassword": "a-fresh-start-42"})
    # Then the new password works (the lockout was lifted), the old session and code do not
    assert reset.status_code == 200
    assert call(client, "GET", "/me", headers=session).status_code == 401
    assert login(client, "ravi@example.com", PASSWORD).status_code == 401
    assert login(client, "ravi@example.com", "a-fresh-start-42").status_code == 200
    again = call(client, "POST", "/password/reset", {"contact": "ravi@example.com", "code": code,
                                                      "newPassword": "another-fresh-43"})
    assert again.status_code == 422
