"""Two-factor sign-in (issue 24 §2): enrolment, the two login steps, replay, clock skew,
recovery codes, the step token that is no session, secrets never stored in clear."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

from tests.auth_support import cookie_attributes
from tests.commands import COMMANDS, names
from tests.factories import PASSWORD, make_user
from tests.http import body, call
from tests.mfa_support import code_at, enrolled, first_step, mfa_token, second_step, wrong_code


def test_the_whole_flow_enrol_then_log_in_with_a_code(client, clock):
    # Given a doctor who asks for a secret
    doctor = make_user("doctor")
    setup = call(client, "POST", "/mfa/totp/setup", as_=doctor)
    assert setup.status_code == 200
    secret, uri = body(setup)["secret"], body(setup)["uri"]
    assert uri.startswith("otpauth://totp/") and f"secret={secret}" in uri and "issuer=CureConnect" in uri
    # and confirms it with the code their app shows
    confirmed = call(client, "POST", "/mfa/totp/confirm", as_=doctor, json={"code": code_at(secret, clock.current)})
    codes = body(confirmed)["recoveryCodes"]
    assert confirmed.status_code == 200 and len(codes) == 10 and len(set(codes)) == 10
    assert body(call(client, "GET", "/me", as_=doctor))["user"]["mfaEnabled"] is True
    clock.advance(minutes=1)
    # When they log in with the password
    step_one = first_step(client, doctor)
    # Then no session yet: a step token and no cookie
    assert step_one.status_code == 200
    assert body(step_one) == {"success": True, "mfaRequired": True, "mfaToken": body(step_one)["mfaToken"]}
    assert "set-cookie" not in {k.lower() for k in step_one.headers}
    # When they send the code of their app
    step_two = second_step(client, body(step_one)["mfaToken"], code=code_at(secret, clock.current))
    # Then the session is issued as /login issues it: the token, the user and the cookie
    assert step_two.status_code == 200
    answer = body(step_two)
    assert answer["user"]["_id"] == str(doctor["_id"]) and answer["user"]["role"] == "doctor"
    assert cookie_attributes(step_two.headers["Set-Cookie"])["token"] == answer["token"]
    assert call(client, "GET", "/me", headers={"Authorization": f"Bearer {answer['token']}"}).status_code == 200


def test_a_code_is_accepted_once(client, clock):
    # Given an enrolled user who logged in with the code of this step
    user, secret, _ = enrolled(client, clock)
    code = code_at(secret, clock.current)
    assert second_step(client, mfa_token(client, user), code=code).status_code == 200
    # When someone who saw that code replays it at once with a fresh step token
    replay = second_step(client, mfa_token(client, user), code=code)
    # Then it is refused
    assert replay.status_code == 401 and body(replay)["code"] == "INVALID_CODE"
    # and the next step's code works
    clock.advance(seconds=30)
    assert second_step(client, mfa_token(client, user), code=code_at(secret, clock.current)).status_code == 200


def test_a_code_one_step_off_is_accepted_two_steps_off_refused(client, clock):
    # Given an enrolled user, with time moved through the clock seam
    user, secret, _ = enrolled(client, clock)
    clock.advance(minutes=5)
    now = clock.current
    # When their phone runs one step behind or ahead, or two
    for offset, expected in ((-60, 401), (60, 401), (-30, 200), (30, 200)):
        clock.advance(minutes=5)  # each try a fresh step, later than any accepted
        answer = second_step(client, mfa_token(client, user), code=code_at(secret, clock.current +
                                                                         timedelta(seconds=offset)))
        # Then ±1 step is accepted, ±2 refused
        assert answer.status_code == expected, (offset, answer.body)
    assert clock.current > now


def test_recovery_codes_work_once_each(client, clock):
    # Given an enrolled user who lost their phone
    user, _, codes = enrolled(client, clock)
    # When they sign in with a recovery code (typed in capitals, without the dash)
    first = second_step(client, mfa_token(client, user), recoveryCode=codes[0].upper().replace("-", ""))
    # Then it works once
    assert first.status_code == 200 and body(first)["token"]
    again = second_step(client, mfa_token(client, user), recoveryCode=codes[0])
    assert again.status_code == 401 and body(again)["code"] == "INVALID_CODE"
    # and another one still works; an invented one does not
    assert second_step(client, mfa_token(client, user), recoveryCode=codes[1]).status_code == 200
    assert second_step(client, mfa_token(client, user), recoveryCode="abcde-fghjk").status_code == 401


def test_the_step_token_is_not_a_session(client, clock):
    # Given a step token from the first step
    user, secret, _ = enrolled(client, clock)
    token = mfa_token(client, user)
    # When it is presented as a session (bearer or cookie)
    as_bearer = call(client, "GET", "/me", headers={"Authorization": f"Bearer {token}"})
    as_cookie = call(client, "GET", "/me", headers={"Cookie": f"token={token}"})
    # Then it is refused
    assert as_bearer.status_code == 401 and as_cookie.status_code == 401
    # and a session token is no step token either
    session = body(second_step(client, token, code=code_at(secret, clock.current)))["token"]
    clock.advance(seconds=30)
    refused = second_step(client, session, code=code_at(secret, clock.current))
    assert refused.status_code == 401 and body(refused)["code"] == "MFA_TOKEN_INVALID"


def test_the_step_token_expires_and_dies_with_a_password_change(client, clock):
    user, secret, _ = enrolled(client, clock)
    token = mfa_token(client, user)
    clock.advance(seconds=301)
    late = second_step(client, token, code=code_at(secret, clock.current))
    assert late.status_code == 401 and body(late)["code"] == "MFA_TOKEN_INVALID"
    token = mfa_token(client, user)
    from functions.core.db import get_db

    get_db()["users"].update_one({"_id": user["_id"]}, {"$inc": {"sessionVersion": 1}})  # a password reset
    assert body(second_step(client, token, code=code_at(secret, clock.current)))["code"] == "MFA_TOKEN_INVALID"


def test_secrets_are_not_stored_in_clear(client, clock, db):
    # Given an enrolled user
    user, secret, codes = enrolled(client, clock)
    # When the database is read
    stored = str(db["users"].find_one({"_id": user["_id"]}))
    # Then neither the secret nor any recovery code is in it
    assert secret not in stored and not any(c in stored or c.replace("-", "") in stored for c in codes)
    # and no answer about the user carries it
    assert secret not in call(client, "GET", "/me", as_=user).body.decode()


def _login_commands(client, user):
    answer, sent = COMMANDS.during(lambda: first_step(client, user))
    return answer, names(sent)


def test_users_without_a_factor_log_in_as_before_in_as_many_round_trips(client, clock):
    # Given a patient without a factor, and one who enrolled
    patient = make_user("patient")
    enrolled_user, _, _ = enrolled(client, clock, role="patient")
    # When each logs in with the password
    answer, plain = _login_commands(client, patient)
    challenged, with_factor = _login_commands(client, enrolled_user)
    # Then the first gets the session as before, the second the challenge
    assert answer.status_code == 200 and body(answer)["token"] and "mfaRequired" not in body(answer)
    assert "set-cookie" in {k.lower() for k in answer.headers}
    assert body(challenged)["mfaRequired"] is True
    # and the factor costs no read: both sent the same commands on the request path (the attempt,
    # one user read); only the session's success settles its attempt afterwards (off the path)
    assert plain[:2] == with_factor[:2] == ["update", "find"]
    assert plain.count("find") == with_factor.count("find") == 1


def test_confirm_needs_a_setup_and_the_right_code(client, clock):
    pharmacist = make_user("pharmacist")
    missing = call(client, "POST", "/mfa/totp/confirm", as_=pharmacist, json={"code": "123456"})
    assert missing.status_code == 409 and body(missing)["code"] == "MFA_SETUP_MISSING"
    secret = body(call(client, "POST", "/mfa/totp/setup", as_=pharmacist))["secret"]
    wrong = call(client, "POST", "/mfa/totp/confirm", as_=pharmacist, json={"code": wrong_code(secret, clock.current)})
    assert wrong.status_code == 422 and body(wrong)["code"] == "INVALID_CODE"
    assert call(client, "POST", "/mfa/totp/confirm", as_=pharmacist, json={"code": "12ab56"}).status_code == 400
    assert call(client, "GET", "/me", as_=pharmacist).status_code == 200
    assert body(call(client, "GET", "/me", as_=pharmacist))["user"].get("mfaEnabled") is not True
    both = call(client, "POST", "/login/mfa", json={"mfaToken": "x", "code": "123456", "recoveryCode": "abcde-fghjk"})
    assert both.status_code == 400


def test_any_role_turns_it_off_with_password_and_code(client, clock):
    # Given a patient who opted in
    patient, secret, _ = enrolled(client, clock, role="patient")
    # When they turn it off with a wrong password, then with the password and a code
    wrong = call(client, "DELETE", "/mfa/totp", as_=patient, json={"password": "not-it", "code":
                                                                  code_at(secret, clock.current)})
    assert wrong.status_code == 422 and body(wrong)["code"] == "WRONG_PASSWORD"
    off = call(client, "DELETE", "/mfa/totp", as_=patient, json={"password": PASSWORD,
                                                                "code": code_at(secret, clock.current)})
    # Then it is off: login issues the session at once
    assert off.status_code == 200
    assert body(first_step(client, patient))["token"]


def test_the_login_lambda_does_not_load_pyotp_or_cryptography_at_import():
    # Given the auth domain's handler imported as its Lambda would, cold
    script = ("import sys; import functions.auth.handler; "
              "print(sorted(m for m in ('pyotp', 'cryptography.fernet') if m in sys.modules))")
    # When the modules loaded are listed
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    # Then neither MFA library is among them
    assert out.stdout.strip() == "[]", out.stderr
