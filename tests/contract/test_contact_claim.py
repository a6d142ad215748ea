"""Claiming a squatted contact (issue 21 item 4) as the existing frontend would send it through
its proxy (`tests/contract/frontend.py`): its sign-up form shows `message` of a refused sign-up,
so the 409 must say there how to claim; the claim's confirmation answers like /register (`user`
with the fields the UI reads, the `token` cookie). The frontend has no claim screen yet; these
requests are what one would send."""

from __future__ import annotations

import re

from tests.appointments_support import sent_emails
from tests.contract.frontend import read, renders_as_text, send
from tests.factories import PASSWORD

OWNER_PASSWORD = "owner-keeps-this-one-7"


def _text(value):
    assert renders_as_text(value) and isinstance(value, str) and value, value
    return value


def test_a_squatted_sign_up_says_how_to_claim_and_the_claim_signs_the_owner_in(client, db, monkeypatch):
    import boto3

    from functions.core import config

    monkeypatch.setenv("SES_FROM_EMAIL", "no-reply@cureconnect.test")
    config.reset_settings()
    boto3.client("ses").verify_email_identity(EmailAddress="no-reply@cureconnect.test")
    # Given a stranger who signed up with Asha's address from the form and never proved it
    squat = {"name": "Someone Else", "contact": "asha@example.com", "password": PASSWORD, "role": "patient"}
    assert send(client, "POST", "/register", form=squat).status_code == 201
    # When Asha signs up from the form
    mine = {"name": "Asha Rao", "contact": "asha@example.com", "password": OWNER_PASSWORD, "role": "patient"}
    refused = send(client, "POST", "/register", form=mine)
    # Then the message the form shows says the contact can be claimed
    assert refused.status_code == 409 and read(refused)["code"] == "CONTACT_CLAIMABLE"
    assert "claim" in _text(read(refused)["message"])
    # When she asks for the code and confirms it with her sign-up fields (strings, as forms send them)
    asked = send(client, "POST", "/contact/claim", json_body={"contact": "asha@example.com"})
    assert asked.status_code == 200 and _text(read(asked)["message"])
    code = re.search(r"\b(\d{6})\b", [m for m in sent_emails() if "claim" in m.subject][-1].body).group(1)
    confirmed = send(client, "POST", "/contact/claim/confirm", json_body={**mine, "code": code})
    # Then she is signed in like after /register: 201, `user` with what the UI reads, and the cookie
    assert confirmed.status_code == 201, confirmed.body
    user = read(confirmed)["user"]
    assert _text(user["_id"]) and _text(user["name"]) == "Asha Rao" and _text(user["role"]) == "patient"
    assert _text(user["contact"]) == "asha@example.com" and user["contactVerified"] is True
    cookie = confirmed.headers["Set-Cookie"]
    assert cookie.startswith("token=ey") and "HttpOnly" in cookie
    me = send(client, "GET", "/me", cookie=cookie.split(";")[0])
    assert me.status_code == 200 and read(me)["user"]["_id"] == user["_id"]


def test_a_foreign_page_cannot_confirm_a_claim(client):
    # The confirmation sets a session cookie: like /register, a cross-site post is refused
    response = send(client, "POST", "/contact/claim/confirm", site="cross-site",
                    json_body={"contact": "asha@example.com", "code": "123456", "name": "Asha Rao",
                               "password": OWNER_PASSWORD})
    assert response.status_code == 403
