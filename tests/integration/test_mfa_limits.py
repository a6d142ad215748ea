"""Two-factor sign-in under attack and by policy (issue 24 §2): code guesses counted before they
are checked (per user and address, so a stranger's burst does not lock the owner out from
elsewhere), a required role's session limited to enrolment, an admin's audited reset."""

from __future__ import annotations

import threading

import pytest

from tests.appointments_support import concurrently
from tests.factories import make_user
from tests.http import body, call
from tests.mfa_support import code_at, enrolled, first_step, mfa_token, second_step, wrong_code


def _from_ip(client, monkeypatch, address):
    monkeypatch.setattr(client.http._local_gateway.event_converter, "LOCAL_SOURCE_IP", address)


def _count_code_checks(monkeypatch):
    from functions.auth import totp

    checks, lock, real = [], threading.Lock(), totp.matching_step

    def counting(secret, code, now):
        with lock:
            checks.append(code)
        return real(secret, code, now)

    monkeypatch.setattr(totp, "matching_step", counting)
    return checks


def _settings(monkeypatch, **env):
    from functions.core import config

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    config.reset_settings()


def test_twenty_parallel_wrong_codes_get_exactly_the_limit_checked(client, clock, monkeypatch):
    # Given an enrolled user whose password a stranger knows, and a counter of code checks
    user, secret, _ = enrolled(client, clock)
    _from_ip(client, monkeypatch, "198.51.100.7")
    token = mfa_token(client, user)
    checks = _count_code_checks(monkeypatch)
    # When 20 wrong codes arrive at once from the stranger's address (MFA_MAX_FAILURES = 5)
    bad = wrong_code(secret, clock.current)
    answers = concurrently(*[lambda: second_step(client, token, code=bad) for _ in range(20)])
    # Then exactly five codes were checked and the others told to wait
    assert len(checks) == 5
    assert sorted(a.status_code for a in answers) == [401] * 5 + [429] * 15
    assert {body(a)["code"] for a in answers if a.status_code == 429} == {"MFA_LOCKED"}
    assert all(int(a.headers["Retry-After"]) > 0 for a in answers if a.status_code == 429)
    # and even the right code is not checked from that address until the window ends
    locked = second_step(client, token, code=code_at(secret, clock.current))
    assert locked.status_code == 429 and len(checks) == 5
    # When the owner signs in from their own address
    _from_ip(client, monkeypatch, "203.0.113.20")
    owner = second_step(client, mfa_token(client, user), code=code_at(secret, clock.current))
    # Then they get in: the stranger spent only their own address's budget
    assert owner.status_code == 200
    # and after the window the stranger's address may try again
    clock.advance(minutes=15, seconds=30)
    _from_ip(client, monkeypatch, "198.51.100.7")
    assert second_step(client, mfa_token(client, user), code=code_at(secret, clock.current)).status_code == 200


def test_a_success_forgets_the_failures_of_that_address(client, clock):
    user, secret, _ = enrolled(client, clock)
    bad = wrong_code(secret, clock.current)
    assert [second_step(client, mfa_token(client, user), code=bad).status_code for _ in range(4)] == [401] * 4
    assert second_step(client, mfa_token(client, user), code=code_at(secret, clock.current)).status_code == 200
    clock.advance(seconds=30)
    assert [second_step(client, mfa_token(client, user), code=bad).status_code for _ in range(4)] == [401] * 4


def test_a_required_role_without_a_factor_gets_a_session_limited_to_enrolment(client, clock, monkeypatch):
    # Given MFA_REQUIRED_ROLES=admin and an admin who has not enrolled
    _settings(monkeypatch, MFA_REQUIRED_ROLES="admin")
    admin = make_user("admin")
    # When they log in
    session = first_step(client, admin)
    # Then they get a session, but every route other than enrolment answers 403 with a clear code
    assert session.status_code == 200
    as_admin = {"Authorization": f"Bearer {body(session)['token']}"}
    for method, path in (("GET", "/admin/users"), ("GET", "/me"), ("GET", "/appointment/my")):
        refused = call(client, method, path, headers=as_admin)
        assert refused.status_code == 403 and body(refused)["code"] == "MFA_ENROLMENT_REQUIRED", path
    # When they enrol with that session
    setup = call(client, "POST", "/mfa/totp/setup", headers=as_admin)
    assert setup.status_code == 200
    secret = body(setup)["secret"]
    confirmed = call(client, "POST", "/mfa/totp/confirm", headers=as_admin,
                     json={"code": code_at(secret, clock.current)})
    assert confirmed.status_code == 200
    # Then the same session reaches the admin routes
    assert call(client, "GET", "/admin/users", headers=as_admin).status_code == 200
    # and a required role cannot turn the factor off
    clock.advance(seconds=30)
    off = call(client, "DELETE", "/mfa/totp", headers=as_admin, json={"password": "correct-horse-battery",
                                                                     "code": code_at(secret, clock.current)})
    assert off.status_code == 403 and body(off)["code"] == "MFA_REQUIRED_FOR_ROLE"
    # and logging out works in a limited session too (another admin, not enrolled)
    other = make_user("admin")
    limited = {"Authorization": f"Bearer {body(first_step(client, other))['token']}"}
    assert call(client, "POST", "/logout", headers=limited).status_code == 200


def test_roles_not_required_are_not_limited(client, monkeypatch):
    _settings(monkeypatch, MFA_REQUIRED_ROLES="admin")
    doctor = make_user("doctor")
    assert call(client, "GET", "/me", as_=doctor).status_code == 200


def test_an_admin_resets_a_factor_and_the_user_sees_it_in_their_access_log(client, clock):
    # Given a pharmacist who lost their phone, and an admin
    pharmacist, _, _ = enrolled(client, clock, role="pharmacist")
    admin = make_user("admin")
    # When a pharmacist tries the reset, then the admin does it
    assert call(client, "DELETE", f"/admin/user/{pharmacist['_id']}/mfa", as_=pharmacist).status_code == 403
    reset = call(client, "DELETE", f"/admin/user/{pharmacist['_id']}/mfa", as_=admin)
    # Then the factor is gone: the password alone signs in
    assert reset.status_code == 200 and body(reset)["user"]["mfaEnabled"] is False
    assert body(first_step(client, pharmacist))["token"]
    # and the reset is audited where the pharmacist can see it
    log = body(call(client, "GET", "/me/access-log", as_=pharmacist))["entries"]
    assert [(e["action"], e["actor"]["role"]) for e in log if e["action"] == "mfa.reset"] == [("mfa.reset", "admin")]
    # and an unknown user is a 404
    missing = call(client, "DELETE", "/admin/user/65f000000000000000000099/mfa", as_=admin)
    assert missing.status_code == 404


@pytest.mark.parametrize("raw", ["", "superuser", "admin,root"])
def test_mfa_settings_are_checked(raw, monkeypatch):
    from functions.core import config

    env = {"MONGODB_URI": "mongodb://127.0.0.1:1/", "JWT_SECRET": "s" * 48, "MFA_REQUIRED_ROLES": raw}
    if raw:
        with pytest.raises(config.ConfigError, match="MFA_REQUIRED_ROLES"):
            config.load_settings(env)
    else:
        assert config.load_settings(env).mfa_required_roles == ()


def test_the_encryption_key_is_required_outside_the_dev_stage():
    from functions.core import config

    env = {"MONGODB_URI": "mongodb://127.0.0.1:1/", "JWT_SECRET": "s" * 48}
    with pytest.raises(config.ConfigError, match="MFA_ENCRYPTION_KEY"):
        config.load_settings({**env, "STAGE": "prod"})
    with pytest.raises(config.ConfigError, match="MFA_ENCRYPTION_KEY"):
        config.load_settings({**env, "STAGE": "prod", "MFA_ENCRYPTION_KEY": "too-short"})
    assert config.load_settings({**env, "STAGE": "dev"}).mfa_encryption_key == config.DEV_MFA_ENCRYPTION_KEY


def test_a_limited_session_opens_no_socket_until_enrolled(client, chalice_app, clock, monkeypatch):
    from tests.signaling_support import fresh_sockets

    # Given MFA_REQUIRED_ROLES=doctor and a doctor who has not enrolled
    _settings(monkeypatch, MFA_REQUIRED_ROLES="doctor")
    doctor = make_user("doctor")
    token = body(first_step(client, doctor))["token"]
    with fresh_sockets(chalice_app) as sockets:
        # When they open a WebSocket with that session
        _, refused = sockets.connect(token=token)
        # Then the gateway is told to refuse it
        assert refused == 403
        # and once they enrol, the same session connects
        secret = body(call(client, "POST", "/mfa/totp/setup", headers={"Authorization": f"Bearer {token}"}))["secret"]
        assert call(client, "POST", "/mfa/totp/confirm", headers={"Authorization": f"Bearer {token}"},
                    json={"code": code_at(secret, clock.current)}).status_code == 200
        assert sockets.connect(token=token)[1] == 200
