"""Logs of sign-up, login and logout carry outcomes and ids, never passwords, hashes or tokens (D-20)."""

import logging

from tests.auth_support import auth, body, login, register
from tests.factories import PASSWORD
from tests.http import call


def test_login_logs_contain_neither_password_nor_token(client, db, caplog, json_log_lines):
    # Libraries at the level the deployed stages run (the driver's own DEBUG command log would
    # echo documents; it is never enabled)
    caplog.set_level(logging.INFO)
    # When someone registers, fails once, logs in, uses the token and logs out
    token_at_signup = body(register(client))["token"]
    wrong = "Wrong-Password-4242"
    assert login(client, "asha@example.com", wrong).status_code == 401
    token = body(login(client, "asha@example.com"))["token"]
    call(client, "GET", "/me", headers=auth(token))
    call(client, "POST", "/logout", headers={"Cookie": f"token={token}"})
    # Then the logs tell what happened
    output = "\n".join(json_log_lines)
    for message in ("Account registered", "Login failed", "Login succeeded", "Logged out"):
        assert f'"message":"{message}"' in output
    # And carry none of the secrets, in any form
    password_hash = db.users.find_one({"contact": "asha@example.com"})["passwordHash"]
    everything = output + caplog.text + repr([vars(r) for r in caplog.records])
    for secret in (PASSWORD, wrong, token, token_at_signup, token.split(".")[2], password_hash):
        assert secret not in everything
