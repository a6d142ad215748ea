"""Helpers of the two-factor sign-in tests: a user enrolled through the API, codes of their
authenticator at any instant, the two login steps."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests.factories import PASSWORD, make_user
from tests.http import body, call


def code_at(secret: str, instant: datetime) -> str:
    """What the user's authenticator shows at `instant`."""
    import pyotp

    return str(pyotp.TOTP(secret).at(instant))


def wrong_code(secret: str, instant: datetime) -> str:
    """A six-digit code that is none of the accepted ones around `instant`."""
    taken = {code_at(secret, instant + timedelta(seconds=30 * k)) for k in (-2, -1, 0, 1, 2)}
    return next(f"{n:06d}" for n in range(1_000_000) if f"{n:06d}" not in taken)


def enrolled(client: Any, clock: Any, role: str = "doctor", **fields: Any) -> tuple[dict[str, Any], str, list[str]]:
    """A user who turned two-factor sign-in on through the API: (user, secret, recovery codes).
    The clock is then moved a minute on, past the step the confirmation used."""
    user = make_user(role, **fields)
    setup = call(client, "POST", "/mfa/totp/setup", as_=user)
    assert setup.status_code == 200, setup.body
    secret = body(setup)["secret"]
    confirmed = call(client, "POST", "/mfa/totp/confirm", as_=user, json={"code": code_at(secret, clock.current)})
    assert confirmed.status_code == 200, confirmed.body
    clock.advance(minutes=1)
    return user, secret, body(confirmed)["recoveryCodes"]


def first_step(client: Any, user: dict[str, Any], password: str = PASSWORD) -> Any:
    return call(client, "POST", "/login", json={"contact": user["contact"], "password": password})


def mfa_token(client: Any, user: dict[str, Any]) -> str:
    answer = first_step(client, user)
    assert answer.status_code == 200 and body(answer)["mfaRequired"] is True, answer.body
    return str(body(answer)["mfaToken"])


def second_step(client: Any, token: str, **factor: str) -> Any:
    return call(client, "POST", "/login/mfa", json={"mfaToken": token, **factor})
