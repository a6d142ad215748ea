"""Two-factor sign-in (issue 24 §2): enrolment of a TOTP authenticator, the second step of a
login, turning it off, and an admin's reset.

Pure Python, no Chalice. The user document holds `mfaEnabled` (read by login and the guard in
the read they already make: no extra round trip for anyone) and, private, `mfa`: `{secret,
lastStep, recovery: {<hash>: true}, enabledAt}` (the secret encrypted, `totp`), or `{pendingSecret,
pendingAt}` between setup and confirm. A TOTP step is accepted once per user: the write that
accepts it is conditional on `mfa.lastStep < step`. A recovery code is used up by the write that
accepts it (conditional on its hash being in the map). Every code checked is counted first
(`core.throttle`): per user and client address, per user, per address; a success forgets that
address's failures.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bson import ObjectId

from functions.auth import totp
from functions.auth.schemas import MfaCodeIn, MfaDisableIn, MfaLoginIn
from functions.auth.views import self_view
from functions.core import audit, clock, throttle, users
from functions.core.config import get_settings
from functions.core.db import maybe_object_id, object_id
from functions.core.errors import Code, Conflict, Forbidden, InvalidToken, NotFound, Unauthorized, Unprocessable
from functions.core.observability import logger
from functions.core.security import Principal, decode_token, issue_step_token, issue_token, verify_password
from functions.core.throttle import Limit

STEP_PURPOSE = "mfa"


@dataclass(frozen=True)
class Challenge:
    """The password was right and the account has a second factor: no session yet."""

    mfa_token: str


def _claims(user_id: ObjectId, source_ip: str) -> list[tuple[Limit, str]]:
    """Code checks per user and address (MFA_MAX_FAILURES: a guesser spends their own address's
    budget), per user from everywhere (MFA_MAX_FAILURES_PER_USER: reachable only past the password
    or with the user's session), per address over all users (MFA_MAX_FAILURES_PER_IP)."""
    s = get_settings()
    window, message = timedelta(minutes=s.mfa_window_minutes), "Too many codes tried, try again later"
    return [(Limit("mfa-user-ip", s.mfa_max_failures, window, Code.MFA_LOCKED, message), f"{user_id}|{source_ip}"),
            (Limit("mfa-user", s.mfa_max_failures_per_user, window, Code.MFA_LOCKED, message), str(user_id)),
            (Limit("mfa-ip", s.mfa_max_failures_per_ip, window, Code.MFA_LOCKED, message), source_ip)]


def _counted(user_id: ObjectId, source_ip: str, now: datetime) -> list[tuple[Limit, str]]:
    claims = _claims(user_id, source_ip)
    throttle.take_all(claims, now)
    return claims


def _succeeded(claims: list[tuple[Limit, str]]) -> None:
    throttle.settle(reset=claims[:1], give_back=claims[1:])


def _accept(user: dict[str, Any], code: str | None, recovery_code: str | None, now: datetime) -> bool:
    """Is this the user's second factor, accepted now for the first time? A TOTP step moves
    `mfa.lastStep` forward (never the same step twice); a recovery code leaves the map."""
    mfa = user.get("mfa") or {}
    if not user.get("mfaEnabled") or not mfa.get("secret"):
        return False
    if recovery_code is not None:
        key = f"mfa.recovery.{totp.recovery_hash(user['_id'], recovery_code)}"
        return users.update_account(user["_id"], {"mfa.recoveryUsedAt": now}, {"$unset": {key: ""}},
                                    {key: {"$exists": True}}) is not None
    step = totp.matching_step(totp.decrypt(mfa["secret"]), code or "", now)
    if step is None:
        return False
    return users.update_account(user["_id"], {"mfa.lastStep": step}, None,
                                {"mfa.lastStep": {"$lt": step}}) is not None


# ---------------------------------------------------------------- enrolment


def setup(principal: Principal) -> tuple[str, str]:
    """A new secret, pending until confirmed with a code (a later setup replaces it)."""
    if principal.user.get("mfaEnabled"):
        raise Conflict("Two-factor sign-in is already on", code=Code.MFA_ALREADY_ENABLED)
    secret, now = totp.new_secret(), clock.now()
    pending = {"mfa.pendingSecret": totp.encrypt(secret), "mfa.pendingAt": now, "updatedAt": now}
    if users.update_account(principal.id, pending, None, {"mfaEnabled": {"$ne": True}}) is None:
        raise Conflict("Two-factor sign-in is already on", code=Code.MFA_ALREADY_ENABLED)
    return secret, totp.uri(secret, str(principal.user.get("contact") or principal.id))


def confirm(principal: Principal, body: MfaCodeIn, source_ip: str) -> list[str]:
    """The first code proves the authenticator holds the secret: the factor is on, and the
    recovery codes are returned this once (stored as keyed hashes only)."""
    now = clock.now()
    claims = _counted(principal.id, source_ip, now)
    user = users.find_credentials(principal.id)
    if user is None:
        raise InvalidToken()
    if user.get("mfaEnabled"):
        raise Conflict("Two-factor sign-in is already on", code=Code.MFA_ALREADY_ENABLED)
    pending = (user.get("mfa") or {}).get("pendingSecret")
    if not pending:
        raise Conflict("Start with POST /mfa/totp/setup", code=Code.MFA_SETUP_MISSING)
    step = totp.matching_step(totp.decrypt(pending), body.code, now)
    if step is None:
        raise _wrong_code()
    codes = totp.new_recovery_codes()
    factor = {"secret": pending, "lastStep": step, "enabledAt": now,
              "recovery": {totp.recovery_hash(principal.id, c): True for c in codes}}
    if users.update_account(principal.id, {"mfaEnabled": True, "mfa": factor, "updatedAt": now}, None,
                            {"mfa.pendingSecret": pending}) is None:
        raise Conflict("The setup changed meanwhile; start again", code=Code.MFA_SETUP_MISSING)
    _succeeded(claims)
    audit.record(principal.user, "mfa.enable", "user", principal.id, subject_id=principal.id)
    logger.info("Second factor enrolled", extra={"userId": str(principal.id)})
    return codes


def disable(principal: Principal, body: MfaDisableIn, source_ip: str) -> None:
    """Off, with the password and a current code; not for a role MFA_REQUIRED_ROLES names."""
    if principal.role in get_settings().mfa_required_roles:
        raise Forbidden("Two-factor sign-in is required for your role", code=Code.MFA_REQUIRED_FOR_ROLE)
    now = clock.now()
    claims = _counted(principal.id, source_ip, now)
    user = users.find_credentials(principal.id)
    if user is None or not user.get("mfaEnabled"):
        raise Conflict("Two-factor sign-in is not on", code=Code.MFA_NOT_ENABLED)
    if not verify_password(user.get("passwordHash"), body.password):
        raise Unprocessable("The password is not correct", code=Code.WRONG_PASSWORD,
                            errors=[{"field": "password", "message": "is not correct"}])
    if not _accept(user, body.code, None, now):
        raise _wrong_code()
    _turn_off(principal.id, now)
    _succeeded(claims)
    audit.record(principal.user, "mfa.disable", "user", principal.id, subject_id=principal.id)


def reset_by_admin(admin: Principal, user_id: str) -> dict[str, Any]:
    """An admin removes a user's second factor (a lost phone); audited. The user enrols again
    (at their next request if their role requires it)."""
    oid = object_id(user_id, "User")
    updated = _turn_off(oid, clock.now())
    if updated is None:
        raise NotFound.of("User")
    audit.record(admin.user, "mfa.reset", "user", oid, subject_id=oid)
    logger.info("Second factor reset by an admin", extra={"userId": str(oid), "adminId": str(admin.id)})
    return self_view(updated)


def _turn_off(user_id: ObjectId, now: datetime) -> dict[str, Any] | None:
    return users.update_account(user_id, {"mfaEnabled": False, "updatedAt": now}, {"$unset": {"mfa": ""}})


def _wrong_code() -> Unprocessable:
    return Unprocessable("The code is not correct", code=Code.INVALID_CODE,
                         errors=[{"field": "code", "message": "is not correct"}])


# ---------------------------------------------------------------- the second step of a login


def challenge(user: dict[str, Any]) -> Challenge:
    """What login answers a user with a second factor: a token good for the second step only."""
    return Challenge(issue_step_token(user, STEP_PURPOSE, get_settings().mfa_token_ttl_seconds))


def _step_token_user(mfa_token: str) -> tuple[ObjectId, int]:
    refused = Unauthorized("The sign-in step expired or is not valid; log in again", code=Code.MFA_TOKEN_INVALID)
    try:
        claims = decode_token(mfa_token, purpose=STEP_PURPOSE)
    except InvalidToken:
        raise refused from None
    user_id, version = maybe_object_id(claims["sub"]), claims.get("sv")
    if user_id is None or not isinstance(version, int) or isinstance(version, bool):
        raise refused
    return user_id, version


def second_step(body: MfaLoginIn, source_ip: str) -> tuple[dict[str, Any], str]:
    """The session, as `/login` issues it, for a valid step token and a code (or a recovery
    code) not used before; the code is counted before it is checked."""
    user_id, version = _step_token_user(body.mfaToken)
    now = clock.now()
    claims = _counted(user_id, source_ip, now)
    user = users.find_credentials(user_id)
    if user is None or int(user.get("sessionVersion", 0)) != version or not user.get("active", True):
        raise Unauthorized("The sign-in step expired or is not valid; log in again", code=Code.MFA_TOKEN_INVALID)
    if not _accept(user, body.code, body.recoveryCode, now):
        logger.info("Second factor refused", extra={"userId": str(user_id)})
        raise Unauthorized("The code is not correct or was used already", code=Code.INVALID_CODE)
    _succeeded(claims)
    token, _ = issue_token(user)
    logger.info("Login succeeded", extra={"userId": str(user_id), "secondFactor": "recovery" if body.recoveryCode
                                          else "totp"})
    return self_view(user), token
