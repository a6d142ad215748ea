"""Accounts and sessions: sign-up, login (attempts claimed before the password check), logout,
profile, password change, the access log; the views of a user and the password rules.

Pure Python, no Chalice: each public function is one use case; routes.py does the HTTP. Beside
it: `directory` (public doctor list), `records` (medical history, patient record),
`administration` (admin role), `recovery` (contact verification, account recovery),
`contact_link` (verification by the link sent at sign-up).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from bson import ObjectId

from functions.auth import contact_link
from functions.auth.fees import fee_to_minor, with_api_fee
from functions.auth.schemas import (
    DOCTOR_FIELDS,
    LoginBody,
    PasswordUpdateBody,
    RegisterBody,
    UpdateMeBody,
)
from functions.core import audit, clock, throttle, users
from functions.core.config import get_settings
from functions.core.directory import is_available
from functions.core.errors import Code, Conflict, InvalidToken, RateLimited, Unauthorized, Unprocessable
from functions.core.observability import logger
from functions.core.schemas import PageQuery
from functions.core.security import (
    ADMIN,
    APPROVED,
    DOCTOR,
    PATIENT,
    PENDING,
    PHARMACIST,
    Principal,
    hash_password,
    issue_token,
    verify_password,
)
from functions.core.throttle import Limit
from functions.core.users import PRIVATE_USER_FIELDS

T = TypeVar("T")

PRIVATE_FIELDS = PRIVATE_USER_FIELDS  # never in any response (core.users keeps the one list)
NO_AVATAR = {"public_id": "", "url": ""}
_PHONE_CHARS = re.compile(r"\+?[\d\s().-]{6,30}")


# ---------------------------------------------------------------- views


def self_view(user: dict[str, Any]) -> dict[str, Any]:
    """A user as the user themself (or an admin) sees it; for a doctor `availability` is the
    frontend's boolean (their schedule is at GET /doctor/availability)."""
    view = {k: v for k, v in user.items() if k not in PRIVATE_FIELDS}
    view["contactVerified"] = bool(user.get("contactVerified"))
    if user.get("role") == DOCTOR:
        view["availability"] = is_available(user)
        view.pop("availablity", None)
        with_api_fee(view, user)
    return view


# ---------------------------------------------------------------- contacts


def normalize_contact(raw: str, region: str) -> tuple[str, str]:
    """(contact, contactType): an e-mail normalized and lower-cased, or a phone number in E.164
    (a number without a country code is read in `region`). ValueError if it is neither."""
    value = raw.strip()
    if "@" in value:
        from email_validator import EmailNotValidError, validate_email

        try:
            return validate_email(value, check_deliverability=False).normalized.lower(), "email"
        except EmailNotValidError:
            raise ValueError("must be a valid e-mail address") from None
    if not _PHONE_CHARS.fullmatch(value):
        raise ValueError("must be an e-mail address or a phone number")
    import phonenumbers

    try:
        number = phonenumbers.parse(value, None if value.startswith("+") else region)
    except phonenumbers.NumberParseException:
        raise ValueError("must be a valid phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError("must be a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), "phone"


def _contact_or_422(raw: str) -> tuple[str, str]:
    try:
        return normalize_contact(raw, get_settings().default_phone_region)
    except ValueError as exc:
        raise Unprocessable(f"contact: {exc}", code=Code.INVALID_CONTACT,
                            errors=[{"field": "contact", "message": str(exc)}]) from None


_common_passwords: frozenset[str] | None = None


def _is_common(password: str) -> bool:
    """In zxcvbn's list of the 30 000 most common passwords (a maintained package; loaded on
    first use, only by the routes that set a password)."""
    global _common_passwords
    if _common_passwords is None:
        from zxcvbn.frequency_lists import FREQUENCY_LISTS

        _common_passwords = frozenset(FREQUENCY_LISTS["passwords"])
    return password.casefold() in _common_passwords


def check_password_rules(password: str, contact: str | None, name: str | None, field: str = "newPassword") -> None:
    """NIST SP 800-63B: at least 8 characters (the schemas), not a commonly used password, and
    not the account's own contact or name."""
    folded = re.sub(r"\s+", "", password.casefold())
    own = {re.sub(r"\s+", "", v.casefold()) for v in (contact, name) if v}
    if contact and "@" in contact:
        own.add(contact.casefold().split("@", 1)[0])
    problem = ("is too common: choose one that is not on lists of leaked passwords" if _is_common(password)
               else "must not be your contact or your name" if folded in own else None)
    if problem:
        raise Unprocessable("Choose a stronger password", code=Code.WEAK_PASSWORD,
                            errors=[{"field": field, "message": problem}])


def login_key(raw: str) -> str:
    """The contact an account is looked up (and failures counted) under: the normalized form when
    it parses, else the trimmed lower-cased text (accounts not made by sign-up, e.g. imported)."""
    try:
        return normalize_contact(raw, get_settings().default_phone_region)[0]
    except ValueError:
        return raw.strip().lower()


# ---------------------------------------------------------------- accounts


def _new_account(body: RegisterBody, role: str) -> dict[str, Any]:
    contact, contact_type = _contact_or_422(body.contact)
    check_password_rules(body.password, contact, body.name, field="password")
    now = clock.now()
    user: dict[str, Any] = {
        "name": body.name,
        "nameKey": body.name.casefold(),
        "contact": contact,
        "contactType": contact_type,
        "passwordHash": hash_password(body.password),
        "role": role,
        "approvalStatus": PENDING if role in (DOCTOR, PHARMACIST) else APPROVED,
        "active": True,
        "sessionVersion": 0,
        "revokedTokens": [],
        "avatar": _sign_up_avatar(body),
        "createdAt": now,
        "updatedAt": now,
    }
    if role == DOCTOR:
        settings = get_settings()
        given = body.model_dump(include=set(DOCTOR_FIELDS), exclude_none=True)
        if body.consultationFee is not None:
            given["consultationFee"] = fee_to_minor(body.consultationFee, body.currency, None)
        user.update({"speciality": "general", "bio": "", "languages": [], "consultationFee": None,
                     "currency": settings.default_currency, "timezone": settings.default_timezone, **given})
    user["_id"] = users.insert_user(user)
    return user


def _sign_up_avatar(body: RegisterBody) -> dict[str, str]:
    """The sign-up form uploads the avatar from the browser (unsigned) before any account exists,
    so no recorded asset can back it. It is kept only if its url is on this deployment's
    Cloudinary cloud (`https://res.cloudinary.com/<cloud>/...`); anything else (another host,
    another cloud, uploads not configured) is dropped, and the account gets no avatar. After
    sign-up, `PUT /me` accepts only recorded avatar uploads of the caller (`update_me`)."""
    from functions.media import api as media

    if body.avatar is None or not body.avatar.url:
        return dict(NO_AVATAR)
    if not media.on_our_cloud(body.avatar.url):
        logger.info("Sign-up avatar dropped: not on our Cloudinary cloud")
        return dict(NO_AVATAR)
    return body.avatar.model_dump()


def register(body: RegisterBody, source_ip: str) -> tuple[dict[str, Any], str]:
    """Public sign-up. Doctors and pharmacists wait for an admin; admins are never self-made (D-07).
    The one message sent is the contact's verification link (`contact_link`; by SMS, limited per
    source address: D-36, the reference texted arbitrary numbers a welcome)."""
    if body.role == ADMIN:
        raise Unprocessable("Admin accounts cannot be created by sign-up", code=Code.ROLE_NOT_ALLOWED,
                            errors=[{"field": "role", "message": "must be patient, doctor or pharmacist"}])
    user = _new_account(body, PATIENT if body.role == "user" else body.role)
    contact_link.send(user, source_ip, clock.now())
    token, _ = issue_token(user)
    logger.info("Account registered", extra={"userId": str(user["_id"]), "role": user["role"]})
    return self_view(user), token


def create_admin(body: RegisterBody) -> dict[str, Any]:
    """Only reachable from the operator CLI (functions.auth.admin)."""
    return self_view(_new_account(body, ADMIN))


def login_window() -> timedelta:
    return timedelta(minutes=get_settings().login_window_minutes)


def login_limits() -> tuple[Limit, Limit]:
    """Password checks per contact and source IP (LOGIN_MAX_FAILURES), and per contact from
    everywhere (LOGIN_MAX_FAILURES_PER_CONTACT), in one LOGIN_WINDOW_MINUTES window."""
    settings, window, message = get_settings(), login_window(), "Too many failed attempts, try again later"
    return (Limit("login-ip", settings.login_max_failures, window, Code.LOGIN_LOCKED, message),
            Limit("login", settings.login_max_failures_per_contact, window, Code.LOGIN_LOCKED, message))


@dataclass(frozen=True)
class Attempt:
    """A claimed password check: counted per contact and source IP, and per contact overall."""

    contact_key: str
    source_ip: str

    def claims(self) -> list[tuple[Limit, str]]:
        here, anywhere = login_limits()
        return [(here, f"{self.source_ip}|{self.contact_key}"), (anywhere, self.contact_key)]

    def succeeded(self) -> None:
        """The failures from this address are forgotten; the attempt no longer counts for the
        contact (one round trip)."""
        here, anywhere = self.claims()
        throttle.settle(reset=[here], give_back=[anywhere])

    def lifted(self) -> None:
        """The owner proved control of the contact (account recovery): both windows end."""
        for limit, key in self.claims():
            throttle.clear(limit, key)


def claim_attempt(contact_key: str, source_ip: str, now: datetime) -> Attempt:
    """Count this password check before it happens (one round trip per window), or 429. Per
    contact and IP, so a burst of guesses gets exactly LOGIN_MAX_FAILURES checks; per contact
    from everywhere, so a stranger with five requests cannot lock the owner out from everywhere
    (and the owner can always recover the account). A refused attempt counts nowhere."""
    attempt = Attempt(contact_key, source_ip)
    try:
        throttle.take_all(attempt.claims(), now)
    except RateLimited:
        logger.info("Login refused: too many failures")
        raise
    return attempt


def _bad_credentials() -> Unauthorized:
    logger.info("Login failed")
    return Unauthorized("Invalid contact or password", code=Code.INVALID_CREDENTIALS)


def login(body: LoginBody, source_ip: str) -> tuple[dict[str, Any], str]:
    """The attempt is claimed first (two conditional writes), then one user read; a success
    gives the claim back. Unknown contacts and wrong passwords look the same, lockout included."""
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


def update_me(principal: Principal, body: UpdateMeBody) -> dict[str, Any]:
    """Allow-listed profile fields only; `null` means "leave as is"."""
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    not_mine = [f for f in DOCTOR_FIELDS if f in changes] if principal.role != DOCTOR else []
    if not_mine:
        raise Unprocessable("Only doctors have these fields", code=Code.FIELD_NOT_ALLOWED,
                            errors=[{"field": f, "message": "only doctors have this field"} for f in not_mine])
    if not changes:
        raise Unprocessable("Nothing to update", code=Code.NOTHING_TO_UPDATE)
    if "consultationFee" in changes:
        changes["consultationFee"] = fee_to_minor(changes["consultationFee"], body.currency,
                                                  principal.user.get("currency"))
    if "name" in changes:
        changes["nameKey"] = changes["name"].casefold()
    changes["updatedAt"] = clock.now()
    if "avatar" not in changes:
        updated = users.update_account(principal.id, changes)
    else:
        changes["avatar"] = _checked_avatar(principal, changes["avatar"])
        before = users.update_account_before(principal.id, changes)
        updated = None if before is None else {**before, **changes}
        if before is not None and before.get("avatar"):  # the replaced avatar leaves Cloudinary (best effort)
            from functions.media import api as media

            media.destroy_replaced(principal.id, [before["avatar"]], [changes["avatar"]])
    if updated is None:
        raise InvalidToken()
    return self_view(updated)


def _checked_avatar(principal: Principal, avatar: dict[str, str]) -> dict[str, str]:
    """An avatar is `{"public_id": "", "url": ""}` (remove it) or a recorded avatar upload of the
    caller (422 ASSET_INVALID for another user's, another purpose's or an unknown public id); the
    url stored is the one Cloudinary reported."""
    if not avatar.get("public_id") and not avatar.get("url"):
        return dict(NO_AVATAR)
    from functions.media import api as media

    return media.require_asset(principal.id, "avatar", avatar, field="avatar")


def update_password(principal: Principal, body: PasswordUpdateBody, source_ip: str) -> tuple[dict[str, Any], str]:
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


def access_log(principal: Principal, query: PageQuery) -> tuple[list[dict[str, Any]], int]:
    """Who read or changed the caller's data, newest first."""
    entries, total = audit.entries_for_subject(principal.id, skip=query.skip, limit=query.limit)
    return [{
        "actor": {"id": e.get("actorId"), "name": e.get("actorName"), "role": e.get("actorRole")},
        "action": e.get("action"),
        "resource": {"type": e.get("resourceType"), "id": e.get("resourceId")},
        "reason": e.get("reason"),
        "at": e.get("at"),
    } for e in entries], total


# ---------------------------------------------------------------- periodic work (core.jobs)


