"""Sessions: login (the attempt claimed before the password check), logout, the password change
that starts a new session version, and closing the sockets of sessions that ended.

Pure Python, no Chalice: each public function is one use case; the routes do the HTTP."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bson import ObjectId

from functions.auth.attempts import claim_attempt
from functions.auth.contacts import login_key
from functions.auth.mfa import Challenge, challenge
from functions.auth.passwords import check_password_rules
from functions.auth.schemas import LoginIn, PasswordUpdateIn
from functions.auth.views import self_view
from functions.core import clock, users
from functions.core.errors import Code, Conflict, InvalidToken, Unauthorized, Unprocessable
from functions.core.observability import logger
from functions.core.security import Principal, hash_password, issue_token, verify_password


def _bad_credentials() -> Unauthorized:
    logger.info("Login failed")
    return Unauthorized("Invalid contact or password", code=Code.INVALID_CREDENTIALS)


def login(body: LoginIn, source_ip: str) -> tuple[dict[str, Any], str] | Challenge:
    """The attempt is claimed first (two conditional writes), then one user read; a success
    gives the claim back. Unknown contacts and wrong passwords look the same, lockout included.
    A user with a second factor (`mfaEnabled`, in the same read) gets a `Challenge`, no session:
    `mfa.second_step` issues it."""
    now = clock.now()
    key = login_key(body.contact)
    attempt = claim_attempt(key, source_ip, now)
    user = users.find_for_login(key)
    if user is None:
        verify_password(None, body.password)  # spend the time a real check takes
        raise _bad_credentials()
    if not verify_password(user.get("passwordHash"), body.password):
        raise _bad_credentials()
    attempt.succeeded()
    if not user.get("active", True):
        raise Unauthorized("This account is deactivated", code=Code.ACCOUNT_INACTIVE)
    if user.get("mfaEnabled"):
        logger.info("Password accepted, second factor asked", extra={"userId": str(user["_id"])})
        return challenge(user)
    token, _ = issue_token(user)
    logger.info("Login succeeded", extra={"userId": str(user["_id"])})
    return self_view(user), token


def end_sockets(user_id: ObjectId, jti: str | None = None) -> None:
    """The WebSocket connections opened with the token just revoked (or, without `jti`, with any
    token of the user) are closed: a revoked token must not keep a call or a chat open. Runs after
    the revocation is committed; a database failure here is logged, not turned into an error of
    a logout or password change that did happen."""
    from pymongo.errors import PyMongoError

    from functions.signaling import api as signaling

    try:
        signaling.end_sessions(user_id, jti)
    except PyMongoError as exc:
        logger.warning("Sockets of an ended session not closed", extra={"userId": str(user_id),
                                                                      "error": type(exc).__name__})


def logout(principal: Principal | None) -> None:
    """Revoke the presented token until it would have expired anyway."""
    if principal is None:
        return
    expires, now = datetime.fromtimestamp(principal.claims["exp"], UTC), clock.now()
    expired = [jti for jti, exp in principal.revoked.items() if not isinstance(exp, datetime) or exp <= now]
    users.revoke_token(principal.id, str(principal.claims["jti"]), expires, expired)
    end_sockets(principal.id, str(principal.claims["jti"]))
    logger.info("Logged out", extra={"userId": str(principal.id)})


def update_password(principal: Principal, body: PasswordUpdateIn, source_ip: str) -> tuple[dict[str, Any], str]:
    """Checks the current password (each check is claimed like a login attempt), then sets the
    new one and starts a new session version: every other token of the user stops working.
    Concurrent changes with one old password: the session version decides, exactly one wins."""
    now = clock.now()
    creds = users.find_credentials(principal.id)
    if creds is None:
        raise InvalidToken()
    attempt = claim_attempt(str(creds.get("contact") or principal.id), source_ip, now)
    if not verify_password(creds.get("passwordHash"), body.oldPassword):
        raise Unprocessable("The current password is not correct", code=Code.WRONG_PASSWORD,
                            errors=[{"field": "oldPassword", "message": "is not correct"}])
    attempt.succeeded()
    if body.newPassword == body.oldPassword:
        raise Unprocessable("The new password must differ from the current one", code=Code.SAME_PASSWORD,
                            errors=[{"field": "newPassword", "message": "must differ from the current password"}])
    check_password_rules(body.newPassword, principal.user.get("contact"), principal.user.get("name"))
    updated = users.replace_password(principal.id, int(creds.get("sessionVersion", 0)),
                                     hash_password(body.newPassword), now)
    if updated is None:
        raise Conflict("The password was changed meanwhile; log in again", code=Code.PASSWORD_CHANGED)
    end_sockets(principal.id)
    token, _ = issue_token(updated)
    logger.info("Password changed", extra={"userId": str(principal.id)})
    return self_view(updated), token
