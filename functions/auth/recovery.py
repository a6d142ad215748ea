"""Contact verification and account recovery with one-time codes (6 digits, 10 minutes,
stored as an HMAC (`codes`), 5 guesses each claimed before it is compared, 3 codes an hour).
Verification by a link sent at sign-up is `contact_link`."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from functions.auth.attempts import Attempt, login_window
from functions.auth.codes import code_hash
from functions.auth.contacts import login_key
from functions.auth.passwords import check_password_rules
from functions.auth.schemas import (
    ForgotPasswordIn,
    ResetPasswordIn,
    VerifyConfirmIn,
)
from functions.auth.sessions import end_sockets
from functions.auth.views import self_view
from functions.core import clock, throttle, users
from functions.core.errors import Code, Conflict, Unprocessable
from functions.core.observability import logger
from functions.core.security import Principal, hash_password
from functions.core.throttle import Limit

CODE_TTL = timedelta(minutes=10)
CODE_ATTEMPTS = 5
CODES_PER_HOUR = 3
_SAME_ANSWER = "If this contact belongs to an account with a verified contact, a code was sent to it"


def _new_code(purpose: str, user: dict[str, Any], now: datetime) -> None:
    import secrets

    from functions.core import notify

    code = f"{secrets.randbelow(10**6):06d}"
    users.set_code(user["_id"], purpose, code_hash(purpose, user["_id"], code), now + CODE_TTL)
    what = "verification" if purpose == "verification" else "password reset"
    text = f"CureConnect: your {what} code is {code}. It expires in {int(CODE_TTL.total_seconds() // 60)} minutes."
    channel = str(user.get("contactType") or ("email" if "@" in str(user["contact"]) else "phone"))
    notify.send(channel, str(user["contact"]), f"CureConnect {what} code", text, kind=purpose, ref=user["_id"])


def _limit(name: str, key: str, window: timedelta, limit: int, now: datetime, message: str) -> None:
    throttle.take(Limit(name, limit, window, Code.TOO_MANY_CODES, message), key, now)


def _check_code(where: dict[str, Any], purpose: str, code: str, now: datetime) -> dict[str, Any]:
    """Claim one guess, then compare: at most CODE_ATTEMPTS comparisons per code, even in a burst."""
    import hmac

    user = users.claim_code_guess(where, purpose, now, CODE_ATTEMPTS)
    if user is None:
        raise Unprocessable("The code is wrong, expired or used up; ask for a new one", code=Code.INVALID_CODE,
                            errors=[{"field": "code", "message": "is not valid"}])
    expected = str((user.get(purpose) or {}).get("codeHash", ""))
    if not hmac.compare_digest(expected, code_hash(purpose, user["_id"], code)):
        raise Unprocessable("The code is wrong, expired or used up; ask for a new one", code=Code.INVALID_CODE,
                            errors=[{"field": "code", "message": "is not valid"}])
    return user


def send_contact_code(principal: Principal) -> dict[str, Any]:
    """POST /verify/contact/send: a 6-digit code to the caller's contact, valid 10 minutes;
    at most 3 an hour."""
    if principal.user.get("contactVerified"):
        raise Conflict("Your contact is already verified", code=Code.ALREADY_VERIFIED)
    now = clock.now()
    _limit("verify-send", str(principal.id), timedelta(hours=1), CODES_PER_HOUR, now,
           "Too many codes asked for; try again later")
    _new_code("verification", principal.user, now)
    return {"message": "A verification code was sent", "expiresInSeconds": int(CODE_TTL.total_seconds())}


def confirm_contact(principal: Principal, body: VerifyConfirmIn) -> dict[str, Any]:
    """POST /verify/contact/confirm {code}: 5 guesses per code."""
    if principal.user.get("contactVerified"):
        return self_view(principal.user)
    now = clock.now()
    user = _check_code({"_id": principal.id}, "verification", body.code, now)
    live_hash = str(user["verification"]["codeHash"])
    if not users.mark_contact_verified(principal.id, live_hash, now):
        raise Unprocessable("The code was replaced meanwhile; use the newest one", code=Code.INVALID_CODE)
    logger.info("Contact verified", extra={"userId": str(principal.id)})
    return self_view({**principal.user, "contactVerified": True, "contactVerifiedAt": now})


def forgot_password(body: ForgotPasswordIn, source_ip: str) -> dict[str, Any]:
    """POST /password/forgot {contact}: a one-time code to that contact if it belongs to an
    account and was verified; the same answer either way. Limited per contact and per address."""
    now = clock.now()
    key = login_key(body.contact)
    _limit("forgot-ip", source_ip, timedelta(hours=1), 20, now, "Too many requests; try again later")
    _limit("forgot", key, timedelta(hours=1), CODES_PER_HOUR, now, "Too many codes asked for; try again later")
    user = users.find_for_login(key)
    if user is not None and user.get("contactVerified") and user.get("active", True):
        _new_code("recovery", user, now)
    return {"message": _SAME_ANSWER}


def reset_password(body: ResetPasswordIn, source_ip: str) -> dict[str, Any]:
    """POST /password/reset {contact, code, newPassword}: sets the password, ends every session
    and lifts the contact's login lockout (so the owner always gets back in)."""
    now = clock.now()
    key = login_key(body.contact)
    _limit("reset-ip", source_ip, login_window(), 20, now, "Too many attempts; try again later")
    user = _check_code({"contact": key}, "recovery", body.code, now)
    check_password_rules(body.newPassword, user.get("contact"), user.get("name"))
    if not users.reset_password(user["_id"], str(user["recovery"]["codeHash"]), hash_password(body.newPassword), now):
        raise Unprocessable("The code was replaced meanwhile; use the newest one", code=Code.INVALID_CODE)
    Attempt(key, source_ip).lifted()
    end_sockets(user["_id"])
    logger.info("Password reset", extra={"userId": str(user["_id"])})
    return {"message": "Your password was reset; log in with the new one"}
