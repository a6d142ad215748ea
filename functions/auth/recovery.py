"""Contact verification and account recovery with one-time codes (6 digits, 10 minutes,
stored as an HMAC (`codes`), 5 guesses each claimed before it is compared). Verification codes:
3 an hour per account. Recovery codes: 3 an hour per contact from one client address, 10 an hour
per contact from everywhere (so one client cannot use up the owner's recovery). A code by SMS
also spends the budgets of `sms_codes`. Verification by a link sent at sign-up is `contact_link`."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from functions.auth import sms_codes
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
from functions.core.errors import Code, Conflict, RateLimited, Unprocessable
from functions.core.observability import logger
from functions.core.security import Principal, hash_password
from functions.core.throttle import Limit

CODE_TTL = timedelta(minutes=10)
CODE_ATTEMPTS = 5
CODES_PER_HOUR = 3  # verification codes per account
FORGOT_PER_ADDRESS_CONTACT_HOUR = 3  # recovery codes for one contact asked from one client address
FORGOT_PER_CONTACT_HOUR = 10  # ... from everywhere: larger, so that no one client exhausts it
FORGOT_PER_ADDRESS_HOUR = 20  # ... for any contacts from one client address
_SAME_ANSWER = "If this contact belongs to an account with a verified contact, a code was sent to it"


def _new_code(purpose: str, user: dict[str, Any], now: datetime) -> None:
    import secrets

    from functions.core import notify

    code = f"{secrets.randbelow(10**6):06d}"
    users.set_code(user["_id"], purpose, code_hash(purpose, user["_id"], code), now + CODE_TTL)
    what = "verification" if purpose == "verification" else "password reset"
    text = f"CureConnect: your {what} code is {code}. It expires in {int(CODE_TTL.total_seconds() // 60)} minutes."
    notify.send(_channel(user), str(user["contact"]), f"CureConnect {what} code", text, kind=purpose, ref=user["_id"])


def _limit(name: str, key: str, window: timedelta, limit: int, now: datetime, message: str) -> None:
    throttle.take(_code_limit(name, limit, window, message), key, now)


def _code_limit(name: str, limit: int, window: timedelta, message: str) -> Limit:
    return Limit(name, limit, window, Code.TOO_MANY_CODES, message)


def _channel(user: dict[str, Any]) -> str:
    return str(user.get("contactType") or ("email" if "@" in str(user["contact"]) else "phone"))


def check_code(where: dict[str, Any], purpose: str, code: str, now: datetime) -> dict[str, Any]:
    """Claim one guess, then compare: at most CODE_ATTEMPTS comparisons per code, even in a burst.
    The user the code belongs to (read with the guess), or 422 INVALID_CODE. Also `claims`'."""
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


def send_contact_code(principal: Principal, source_ip: str) -> dict[str, Any]:
    """POST /verify/contact/send: a 6-digit code to the caller's contact, valid 10 minutes;
    at most 3 an hour per account; by SMS only to a number `sms_codes` accepts (else 400), within
    its per-number, per-address and global budgets (all taken or none)."""
    if principal.user.get("contactVerified"):
        raise Conflict("Your contact is already verified", code=Code.ALREADY_VERIFIED)
    now = clock.now()
    contact, channel = str(principal.user["contact"]), _channel(principal.user)
    sms_codes.refuse_untextable(contact, channel)
    per_account = _code_limit("verify-send", CODES_PER_HOUR, timedelta(hours=1),
                              "Too many codes asked for; try again later")
    claims = [(per_account, str(principal.id))]
    try:
        throttle.take_all(claims + (sms_codes.claims(contact, source_ip) if channel == "phone" else []), now)
    except RateLimited:
        logger.info("Verification code refused: over a limit")
        raise
    _new_code("verification", principal.user, now)
    return {"message": "A verification code was sent", "expiresInSeconds": int(CODE_TTL.total_seconds())}


def confirm_contact(principal: Principal, body: VerifyConfirmIn) -> dict[str, Any]:
    """POST /verify/contact/confirm {code}: 5 guesses per code."""
    if principal.user.get("contactVerified"):
        return self_view(principal.user)
    now = clock.now()
    user = check_code({"_id": principal.id}, "verification", body.code, now)
    live_hash = str(user["verification"]["codeHash"])
    if not users.mark_contact_verified(principal.id, live_hash, now):
        raise Unprocessable("The code was replaced meanwhile; use the newest one", code=Code.INVALID_CODE)
    logger.info("Contact verified", extra={"userId": str(principal.id)})
    return self_view({**principal.user, "contactVerified": True, "contactVerifiedAt": now})


def forgot_limits() -> tuple[Limit, Limit, Limit]:
    """Recovery codes asked for: per contact from one address (the smaller budget, spent by the
    client asking), per contact from everywhere (larger: one client cannot exhaust it), and per
    address for any contacts."""
    hour, message = timedelta(hours=1), "Too many codes asked for; try again later"
    return (_code_limit("forgot-ip-contact", FORGOT_PER_ADDRESS_CONTACT_HOUR, hour, message),
            _code_limit("forgot", FORGOT_PER_CONTACT_HOUR, hour, message),
            _code_limit("forgot-ip", FORGOT_PER_ADDRESS_HOUR, hour, "Too many requests; try again later"))


def forgot_password(body: ForgotPasswordIn, source_ip: str) -> dict[str, Any]:
    """POST /password/forgot {contact}: a one-time code to that contact if it belongs to an
    account and was verified; the same answer either way. Limited per contact and address, per
    contact and per address, all taken or none (a refused request spends nothing); a code by SMS
    also spends `sms_codes`' budgets, silently (the answer must not tell whether it was sent)."""
    now = clock.now()
    key = login_key(body.contact)
    here, anywhere, address = forgot_limits()
    try:
        throttle.take_all([(here, f"{source_ip}|{key}"), (anywhere, key), (address, source_ip)], now)
    except RateLimited:
        logger.info("Recovery code refused: over a limit")
        raise
    user = users.find_for_login(key)
    if user is None or not user.get("contactVerified") or not user.get("active", True):
        return {"message": _SAME_ANSWER}
    if _channel(user) == "phone" and not sms_codes.try_take(str(user["contact"]), source_ip, now):
        return {"message": _SAME_ANSWER}
    _new_code("recovery", user, now)
    return {"message": _SAME_ANSWER}


def reset_password(body: ResetPasswordIn, source_ip: str) -> dict[str, Any]:
    """POST /password/reset {contact, code, newPassword}: sets the password, ends every session
    and lifts the contact's login lockout (so the owner always gets back in)."""
    now = clock.now()
    key = login_key(body.contact)
    _limit("reset-ip", source_ip, login_window(), 20, now, "Too many attempts; try again later")
    user = check_code({"contact": key}, "recovery", body.code, now)
    check_password_rules(body.newPassword, user.get("contact"), user.get("name"))
    if not users.reset_password(user["_id"], str(user["recovery"]["codeHash"]), hash_password(body.newPassword), now):
        raise Unprocessable("The code was replaced meanwhile; use the newest one", code=Code.INVALID_CODE)
    Attempt(key, source_ip).lifted()
    end_sockets(user["_id"])
    logger.info("Password reset", extra={"userId": str(user["_id"])})
    return {"message": "Your password was reset; log in with the new one"}
