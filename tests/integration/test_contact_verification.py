"""Contact verification, account recovery and the message caps of the one notifier."""

import re

import pytest

from tests.appointments_support import providers_configured, sent_emails
from tests.auth_support import auth, body, login, register
from tests.factories import PASSWORD, bearer, make_user
from tests.http import call


@pytest.fixture
def sms(client, monkeypatch):
    return providers_configured(monkeypatch)


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
    confirmed = call(client, "POST", "/verify/contact/confirm", json={"code": code}, headers=auth(token))
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
        assert call(client, "POST", "/verify/contact/confirm", json={"code": wrong},
                    headers=auth(token)).status_code == 422
    # the right code no longer works once the guesses are used up
    used_up = call(client, "POST", "/verify/contact/confirm", json={"code": code}, headers=auth(token))
    assert used_up.status_code == 422 and body(used_up)["code"] == "INVALID_CODE"
    # a new code, once expired, does not work either
    call(client, "POST", "/verify/contact/send", headers=auth(token))
    clock.advance(minutes=10, seconds=1)
    assert call(client, "POST", "/verify/contact/confirm", json={"code": _last_email_code()},
                headers=auth(token)).status_code == 422
    # and resending is limited: three codes an hour
    assert call(client, "POST", "/verify/contact/send", headers=auth(token)).status_code == 200
    limited = call(client, "POST", "/verify/contact/send", headers=auth(token))
    assert limited.status_code == 429 and "Retry-After" in limited.headers


@pytest.mark.parametrize("code", ["12345", "1234567", "abcdef", ""])
def test_malformed_codes_are_400(client, code):
    token = body(register(client))["token"]
    assert call(client, "POST", "/verify/contact/confirm", json={"code": code}, headers=auth(token)).status_code == 400


def test_sms_go_only_to_verified_numbers_and_codes_reach_unverified_ones(client, sms, db):
    # Given an unverified phone account, whose one SMS so far is its sign-up verification link
    token = body(register(client, contact="+919876543210"))["token"]
    assert len(sms.sms) == 1 and "/api/v1/verify/contact/link/" in sms.sms[0]["Body"]
    # When a notice would go to it, nothing is sent (the outbox records it, its worker drops it); a code is
    from functions.core import notify

    notify.send("phone", "+919876543210", "s", "CureConnect: notice", kind="booked")
    assert len(sms.sms) == 1 and db.notifications.count_documents({"status": "dropped"}) == 1
    call(client, "POST", "/verify/contact/send", headers=auth(token))
    assert len(sms.sms) == 2
    # And once verified, notices go out
    call(client, "POST", "/verify/contact/confirm", json={"code": _code(sms.sms[1]["Body"])}, headers=auth(token))
    notify.send("phone", "+919876543210", "s", "CureConnect: notice", kind="booked")
    assert len(sms.sms) == 3 and sms.sms[-1]["Body"] == "CureConnect: notice"
    assert db.notifications.count_documents({"status": "pending"}) == 0  # dropped messages are never retried


def _emails_to(contact):
    return [m for m in sent_emails() if m.destinations["ToAddresses"] == [contact]]


def test_unverified_addresses_get_three_emails_a_day_and_everyone_at_most_twenty(client, sms, clock):
    from functions.core import notify

    register(client)  # its verification link: a one-time code the owner asked for, not counted (issue 21)
    assert len(_emails_to("asha@example.com")) == 1
    for _ in range(4):
        notify.send("email", "asha@example.com", "s", "b", kind="booked")
    assert len(_emails_to("asha@example.com")) == 1 + 3  # the fourth is dropped
    verified = make_user("patient")
    for _ in range(21):
        notify.send("email", verified["contact"], "s", "b", kind="booked")
    assert len(_emails_to(verified["contact"])) == 20  # the 21st waits for the hourly digest (issue 21)
    clock.advance(days=1)
    notify.send("email", verified["contact"], "s", "b", kind="booked")
    assert [m.subject for m in _emails_to(verified["contact"])[20:]] == \
        ["CureConnect: your notices of the last hour", "s"]


def test_forgot_password_answers_the_same_and_sends_only_to_verified_contacts(client, sms):
    # Given one unverified account and one verified account
    register(client)
    owner = make_user("patient", contact="ravi@example.com")
    # When both, and a stranger, ask for a reset
    answers = [call(client, "POST", "/password/forgot", json={"contact": c})
               for c in ("asha@example.com", "ravi@example.com", "ghost@example.com")]
    # Then the answers are identical, and only the verified contact got a code
    assert {a.status_code for a in answers} == {200} and len({a.body for a in answers}) == 1
    codes = [m for m in sent_emails() if "password reset" in m.subject]
    assert [m.destinations["ToAddresses"] for m in codes] == [[owner["contact"]]]


def test_a_reset_sets_the_password_ends_every_session_and_lifts_the_lockout(client, sms):
    # Given a verified owner with a live session, locked out by failures
    owner = make_user("patient", contact="ravi@example.com")
    session = bearer(owner)
    for _ in range(5):
        login(client, "ravi@example.com", "wrong-guess-1")
    assert login(client, "ravi@example.com").status_code == 429
    # When they recover the account
    call(client, "POST", "/password/forgot", json={"contact": "ravi@example.com"})
    code = _last_email_code()
    weak = call(client, "POST", "/password/reset", json={"contact": "ravi@example.com", "code": code,
                                                     "newPassword": "password1"})
    assert weak.status_code == 422
    reset = call(client, "POST", "/password/reset", json={"contact": "ravi@example.com", "code": code,
                                                      "newPassword": "a-fresh-start-42"})
    # Then the new password works (the lockout was lifted), the old session and code do not
    assert reset.status_code == 200
    assert call(client, "GET", "/me", headers=session).status_code == 401
    assert login(client, "ravi@example.com", PASSWORD).status_code == 401
    assert login(client, "ravi@example.com", "a-fresh-start-42").status_code == 200
    again = call(client, "POST", "/password/reset", json={"contact": "ravi@example.com", "code": code,
                                                      "newPassword": "another-fresh-43"})
    assert again.status_code == 422


# ---------------------------------------------------------------- verification by link (issue 17)
# The existing frontend has no code screen: sign-up sends a link to a page of the API.

LINK = re.compile(r"(https?://\S+/api/v1/verify/contact/link/([0-9a-f]{24})\.([A-Za-z0-9_-]{32}))")
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
FORM_POST = {"Content-Type": "application/x-www-form-urlencoded", "Accept": BROWSER}


def _sign_up_link(client, contact="asha@example.com"):
    register(client, contact=contact)
    found = LINK.search(sent_emails()[-1].body)
    assert found, sent_emails()[-1].body
    return found


def _path(url):
    return url[url.index("/api/v1/"):]


def _verified(db, contact="asha@example.com"):
    return bool(db.users.find_one({"contact": contact}).get("contactVerified"))


def test_the_sign_up_link_opens_a_page_whose_button_verifies_the_contact(client, sms, db):
    # Given a new account's link (PUBLIC_BASE_URL empty: through the frontend's proxy on APP_BASE_URL)
    url, _user_id, secret = _sign_up_link(client).groups()
    assert url.startswith("https://app.cureconnect.test/api/v1/verify/contact/link/")
    assert secret not in str(db.users.find_one({"contact": "asha@example.com"}))  # stored hashed only
    # When it is opened, as a mail scanner or the user's browser does
    page = client.http.get(_path(url), headers={"Accept": BROWSER})
    # Then a page with a button answers, without script, under a strict policy, and nothing is verified yet
    assert page.status_code == 200 and page.headers["Content-Type"] == "text/html; charset=utf-8"
    html = page.body.decode()
    assert '<form method="post">' in html and "<button" in html and "<script" not in html.lower()
    policy = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "form-action 'self' https://app.cureconnect.test" in policy
    assert page.headers["Referrer-Policy"] == "no-referrer" and page.headers["Cache-Control"] == "no-store"
    assert not _verified(db)
    # When its button is pressed
    pressed = client.http.post(_path(url), headers=FORM_POST, body=b"")
    # Then the contact is verified and the browser goes on to the frontend's account page
    assert pressed.status_code == 303 and pressed.headers["Location"] == "https://app.cureconnect.test/account"
    assert _verified(db)
    # And the link works once: afterwards it is a 404 page
    for again in (client.http.post(_path(url), headers=FORM_POST, body=b""),
                  client.http.get(_path(url), headers={"Accept": BROWSER})):
        assert again.status_code == 404 and again.headers["Content-Type"].startswith("text/html")
        assert "not valid" in again.body.decode()


def test_the_link_is_on_public_base_url_when_set(client, sms, monkeypatch):
    from functions.core import config

    monkeypatch.setenv("PUBLIC_BASE_URL", "https://api.cureconnect.test/")
    config.reset_settings()
    url = _sign_up_link(client).group(1)
    assert url.startswith("https://api.cureconnect.test/api/v1/verify/contact/link/")


def test_an_expired_or_altered_link_verifies_nothing_and_says_so_in_json_to_other_clients(client, sms, db, clock):
    url, user_id, secret = _sign_up_link(client).groups()
    altered = _path(url).replace(secret, ("A" if secret[0] != "A" else "B") + secret[1:])
    # An altered secret, a malformed token, and the real link a day later: all 404
    assert client.http.post(altered, headers=FORM_POST, body=b"").status_code == 404
    assert client.http.get(f"/api/v1/verify/contact/link/{user_id}", headers={"Accept": BROWSER}).status_code == 404
    clock.advance(hours=24, seconds=1)
    expired = call(client, "POST", _path(url).removeprefix("/api/v1"))
    assert expired.status_code == 404 and body(expired)["code"] == "NOT_FOUND"
    assert "not valid" in body(expired)["message"]
    assert not _verified(db)


def test_the_link_page_is_exempt_from_the_same_site_rule(client, sms, db):
    # Given a link, and a browser that holds some session cookie: the page is served with
    # `Referrer-Policy: no-referrer`, so its own form post arrives with `Origin: null`
    url = _sign_up_link(client).group(1)
    someone = make_user("patient")
    cookie = f"token={bearer(someone)['Authorization'].split()[1]}"
    # When the button is pressed
    pressed = client.http.post(_path(url), body=b"", headers={**FORM_POST, "Origin": "null", "Cookie": cookie,
                                                             "Sec-Fetch-Site": "same-origin"})
    # Then the link (its own authentication) decides, not the same-site check
    assert pressed.status_code == 303 and _verified(db)


def test_a_code_uses_the_link_up_and_the_link_is_the_code_kind_for_the_caps(client, sms, db):
    # Given a phone account: its link went by SMS although the number is unverified (a code kind)
    token = body(register(client, contact="+919876543210"))["token"]
    link = LINK.search(sms.sms[0]["Body"]).group(1)
    # When it verifies with a six-digit code instead
    call(client, "POST", "/verify/contact/send", headers=auth(token))
    confirmed = call(client, "POST", "/verify/contact/confirm", json={"code": _code(sms.sms[1]["Body"])},
                     headers=auth(token))
    assert confirmed.status_code == 200 and _verified(db, "+919876543210")
    # Then the link no longer opens anything
    assert client.http.get(_path(link), headers={"Accept": BROWSER}).status_code == 404
