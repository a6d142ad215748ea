"""Rules of accounts, sessions, the doctor directory, medical history and user administration.

Pure Python, no Chalice: each public function is one use case; routes.py does the HTTP.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from bson import ObjectId

from functions.auth import store
from functions.auth.schemas import (
    DOCTOR_FIELDS,
    ActiveBody,
    ApprovalBody,
    DoctorsQuery,
    ForgotPasswordBody,
    LoginBody,
    MedicalHistoryBody,
    PasswordUpdateBody,
    RegisterBody,
    ResetPasswordBody,
    UpdateMeBody,
    UsersQuery,
    VerifyConfirmBody,
)
from functions.core import audit, clock
from functions.core.care import doctor_treats_patient
from functions.core.config import get_settings
from functions.core.db import object_id
from functions.core.directory import is_available
from functions.core.errors import Code, Conflict, NotFound, RateLimited, Unauthorized, Unprocessable
from functions.core.observability import logger
from functions.core.schemas import PageQuery
from functions.core.security import (
    ADMIN,
    APPROVED,
    DOCTOR,
    PATIENT,
    PENDING,
    PHARMACIST,
    PRIVATE_USER_FIELDS,
    Principal,
    hash_password,
    issue_token,
    verify_password,
)

T = TypeVar("T")

HISTORY_CAP = 500
PRIVATE_FIELDS = PRIVATE_USER_FIELDS  # never in any response (core.security keeps the one list)
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
    return view


def public_doctor(doctor: dict[str, Any]) -> dict[str, Any]:
    """A doctor as anyone sees it: never contact details (D-31: the reference listed doctors'
    phone numbers) nor scheduling internals; `availability` is bookable or not (approved,
    active, taking bookings, with weekly hours)."""
    return {**{k: doctor.get(k) for k in store.DOCTOR_PUBLIC}, "availability": is_available(doctor)}


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
        raise Unprocessable("Invalid contact", code=Code.INVALID_CONTACT,
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
        "avatar": body.avatar.model_dump() if body.avatar else dict(NO_AVATAR),
        "createdAt": now,
        "updatedAt": now,
    }
    if role == DOCTOR:
        settings = get_settings()
        given = body.model_dump(include=set(DOCTOR_FIELDS), exclude_none=True)
        user.update({"speciality": "general", "bio": "", "languages": [], "consultationFee": None,
                     "currency": settings.default_currency, "timezone": settings.default_timezone, **given})
    user["_id"] = store.insert_user(user)
    return user


def register(body: RegisterBody) -> tuple[dict[str, Any], str]:
    """Public sign-up. Doctors and pharmacists wait for an admin; admins are never self-made (D-07).
    Nothing is sent to the contact (D-36)."""
    if body.role == ADMIN:
        raise Unprocessable("Admin accounts cannot be created by sign-up", code=Code.ROLE_NOT_ALLOWED,
                            errors=[{"field": "role", "message": "must be patient, doctor or pharmacist"}])
    user = _new_account(body, PATIENT if body.role == "user" else body.role)
    token, _ = issue_token(user)
    logger.info("Account registered", extra={"userId": str(user["_id"]), "role": user["role"]})
    return self_view(user), token


def create_admin(body: RegisterBody) -> dict[str, Any]:
    """Only reachable from the operator CLI (functions.auth.admin)."""
    return self_view(_new_account(body, ADMIN))


def _window() -> timedelta:
    return timedelta(minutes=get_settings().login_window_minutes)


@dataclass(frozen=True)
class Attempt:
    """A claimed password check: counted per contact and source IP, and per contact overall."""

    here: str
    anywhere: str

    def succeeded(self) -> None:
        store.clear_attempts(self.here)
        store.give_back_attempt(self.anywhere)

    def lifted(self) -> None:
        """The owner proved control of the contact (account recovery): both windows end."""
        store.clear_attempts(self.here)
        store.clear_attempts(self.anywhere)


def claim_attempt(contact_key: str, source_ip: str, now: datetime) -> Attempt:
    """Count this password check before it happens, or 429. Per contact and IP at
    LOGIN_MAX_FAILURES, so a burst of guesses gets exactly that many checks; per contact from
    everywhere at LOGIN_MAX_FAILURES_PER_CONTACT, so a stranger with five requests cannot lock
    the owner out from everywhere (and the owner can always recover the account)."""
    settings, window = get_settings(), _window()
    attempt = Attempt(f"ip|{source_ip}|{contact_key}", f"c|{contact_key}")
    for key, limit, counted in ((attempt.here, settings.login_max_failures, None),
                                (attempt.anywhere, settings.login_max_failures_per_contact, attempt.here)):
        since = store.claim_attempt(key, now, window, limit)
        if since is not None:
            if counted:
                store.give_back_attempt(counted)  # refused unchecked: this attempt does not count here
            retry = math.ceil((since + window - now).total_seconds())
            logger.info("Login refused: too many failures")
            raise RateLimited("Too many failed attempts, try again later", code=Code.LOGIN_LOCKED, retry_after=retry)
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
    user = store.find_for_login(key)
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


def logout(principal: Principal | None) -> None:
    """Revoke the presented token until it would have expired anyway."""
    if principal is None:
        return
    expires, now = datetime.fromtimestamp(principal.claims["exp"], UTC), clock.now()
    expired = [jti for jti, exp in principal.revoked.items() if not isinstance(exp, datetime) or exp <= now]
    store.revoke_token(principal.id, str(principal.claims["jti"]), expires, expired)
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
    if "name" in changes:
        changes["nameKey"] = changes["name"].casefold()
    changes["updatedAt"] = clock.now()
    updated = store.update_account(principal.id, changes)
    if updated is None:
        raise Unauthorized("Invalid or expired token", code=Code.INVALID_TOKEN)
    return self_view(updated)


def update_password(principal: Principal, body: PasswordUpdateBody, source_ip: str) -> tuple[dict[str, Any], str]:
    """Checks the current password (each check is claimed like a login attempt), then sets the
    new one and starts a new session version: every other token of the user stops working.
    Concurrent changes with one old password: the session version decides, exactly one wins."""
    now = clock.now()
    creds = store.find_credentials(principal.id)
    if creds is None:
        raise Unauthorized("Invalid or expired token", code=Code.INVALID_TOKEN)
    attempt = claim_attempt(str(creds.get("contact") or principal.id), source_ip, now)
    if not verify_password(creds.get("passwordHash"), body.oldPassword):
        raise Unprocessable("The current password is not correct", code=Code.WRONG_PASSWORD,
                            errors=[{"field": "oldPassword", "message": "is not correct"}])
    attempt.succeeded()
    if body.newPassword == body.oldPassword:
        raise Unprocessable("The new password must differ from the current one", code=Code.SAME_PASSWORD,
                            errors=[{"field": "newPassword", "message": "must differ from the current password"}])
    check_password_rules(body.newPassword, principal.user.get("contact"), principal.user.get("name"))
    updated = store.replace_password(principal.id, int(creds.get("sessionVersion", 0)),
                                     hash_password(body.newPassword), now)
    if updated is None:
        raise Conflict("The password was changed meanwhile; log in again", code=Code.PASSWORD_CHANGED)
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


# ---------------------------------------------------------------- doctor directory


UNPAGED_LIMIT = 100


def list_doctors(query: DoctorsQuery) -> tuple[list[dict[str, Any]], int, int, int]:
    """Listed doctors: (items, total, page, limit). `q` is matched as literal text within the
    name, never as a regex. Without `page`/`limit` (the existing frontend never pages): up to
    100, those available for booking first, each group by name."""
    name_part = query.q.casefold() if query.q else None
    where = store.doctor_filter(query.speciality, name_part)
    if query.paged:
        items, total = store.list_doctors(where, query.skip, query.limit)
        return [public_doctor(d) for d in items], total, query.page, query.limit
    items, total = store.list_doctors(where, 0, UNPAGED_LIMIT)
    shaped = sorted((public_doctor(d) for d in items), key=lambda d: not d["availability"])
    return shaped, total, 1, UNPAGED_LIMIT


def get_doctor(doctor_id: str) -> dict[str, Any]:
    doctor = store.find_listed_doctor(object_id(doctor_id, "Doctor"))
    if doctor is None:
        raise NotFound("Doctor not found")
    return public_doctor(doctor)


# ---------------------------------------------------------------- medical history


def add_history(principal: Principal, body: MedicalHistoryBody) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Append to the caller's own history (at most HISTORY_CAP entries); audited."""
    entry = {"_id": ObjectId(), "analysis": body.analysis, "image": {"url": body.url}, "type": body.type,
             "createdAt": clock.now()}
    updated = store.push_history(principal.id, entry, HISTORY_CAP)
    if updated is None:
        raise Unprocessable(f"The medical history already holds {HISTORY_CAP} entries", code=Code.HISTORY_FULL)
    audit.record(principal.user, "create", "medicalHistory", entry["_id"], subject_id=principal.id)
    return entry, list(updated.get("medicalHistory") or [])


def _patient_in_reach(principal: Principal, user_id: str, what: str) -> tuple[ObjectId, bool]:
    """(patient id, is it the caller): the patient themself, or an approved doctor in their care
    (a non-cancelled appointment). Anyone else gets the same 404 as for a user who does not
    exist, so ids cannot be probed (D-10, D-11)."""
    patient_id = object_id(user_id, what)
    own = patient_id == principal.id
    if not own and not (principal.role == DOCTOR and principal.approved
                        and doctor_treats_patient(principal.id, patient_id)):
        raise NotFound(f"{what} not found")
    return patient_id, own


def _read_patient_data(principal: Principal, user_id: str, what: str, resource: str,
                       load: Callable[[ObjectId], T | None]) -> tuple[ObjectId, T]:
    """Load a patient's data for a caller in reach; reads by anyone but the patient are audited."""
    patient_id, own = _patient_in_reach(principal, user_id, what)
    data = load(patient_id)
    if data is None:
        raise NotFound(f"{what} not found")
    if not own:
        audit.record(principal.user, "read", resource, patient_id, subject_id=patient_id)
    return patient_id, data


def get_history(principal: Principal, user_id: str) -> list[dict[str, Any]]:
    """A patient's medical history."""
    return _read_patient_data(principal, user_id, "Medical history", "medicalHistory", store.find_history)[1]


def patient_record(principal: Principal, user_id: str) -> dict[str, Any]:
    """The patient summary behind the frontend's QR code (`complete-data`): profile and medical
    history, for the same readers as the history, audited the same way."""
    patient_id, patient = _read_patient_data(principal, user_id, "Patient", "patientRecord", store.find_patient)
    return {"patientId": patient_id, "name": patient.get("name"), "contact": patient.get("contact"),
            "role": patient.get("role"), "avatar": patient.get("avatar"), "createdAt": patient.get("createdAt"),
            "lastUpdated": patient.get("updatedAt"), "isActive": bool(patient.get("active", True)),
            "medicalHistory": list(patient.get("medicalHistory") or [])}


# ---------------------------------------------------------------- administration (admin role only)


def list_users(admin: Principal, query: UsersQuery) -> tuple[list[dict[str, Any]], int]:
    filters = {k: v for k, v in (("role", query.role), ("approvalStatus", query.approvalStatus)) if v}
    items, total = store.list_accounts(filters, query.skip, query.limit)
    audit.record(admin.user, "list", "user", None, reason=",".join(f"{k}={v}" for k, v in filters.items()) or None)
    return [self_view(u) for u in items], total


def get_user(admin: Principal, user_id: str) -> dict[str, Any]:
    oid = object_id(user_id, "User")
    user = store.find_account(oid)
    if user is None:
        raise NotFound("User not found")
    audit.record(admin.user, "read", "user", oid, subject_id=oid)
    return self_view(user)


def set_approval(admin: Principal, user_id: str, body: ApprovalBody) -> dict[str, Any]:
    """Approve or reject a doctor or pharmacist; takes effect on their next request."""
    oid = object_id(user_id, "User")
    now = clock.now()
    changes = {"approvalStatus": body.status, "approvalReason": body.reason, "reviewedBy": admin.id,
               "reviewedAt": now, "updatedAt": now}
    updated = store.update_account(oid, changes, condition={"role": {"$in": [DOCTOR, PHARMACIST]}})
    if updated is None:
        if store.find_account(oid) is None:
            raise NotFound("User not found")
        raise Unprocessable("Only doctor and pharmacist accounts need approval", code=Code.NOT_APPROVABLE)
    audit.record(admin.user, f"approval.{body.status}", "user", oid, body.reason, subject_id=oid)
    return self_view(updated)


def set_active(admin: Principal, user_id: str, body: ActiveBody) -> dict[str, Any]:
    """Deactivation ends every session at once (new session version) and blocks login."""
    oid = object_id(user_id, "User")
    if oid == admin.id:
        raise Unprocessable("You cannot change your own account's active flag", code=Code.SELF_DEACTIVATION,
                            errors=[{"field": "active", "message": "not allowed on your own account"}])
    extra = None if body.active else {"$inc": {"sessionVersion": 1}}
    updated = store.update_account(oid, {"active": body.active, "updatedAt": clock.now()}, extra)
    if updated is None:
        raise NotFound("User not found")
    action = "account.activated" if body.active else "account.deactivated"
    audit.record(admin.user, action, "user", oid, body.reason, subject_id=oid)
    return self_view(updated)


# ---------------------------------------------------------------- contact verification and account recovery

CODE_TTL = timedelta(minutes=10)
CODE_ATTEMPTS = 5
CODES_PER_HOUR = 3
_SAME_ANSWER = "If this contact belongs to an account with a verified contact, a code was sent to it"


def _code_hash(purpose: str, user_id: Any, code: str) -> str:
    """Codes are stored only as an HMAC (keyed with the server secret, bound to the user)."""
    import hashlib
    import hmac

    message = f"{purpose}|{user_id}|{code}".encode()
    return hmac.new(get_settings().jwt_secret.encode(), message, hashlib.sha256).hexdigest()


def _new_code(purpose: str, user: dict[str, Any], now: datetime) -> None:
    import secrets

    from functions.core import notify

    code = f"{secrets.randbelow(10**6):06d}"
    store.set_code(user["_id"], purpose, _code_hash(purpose, user["_id"], code), now + CODE_TTL)
    what = "verification" if purpose == "verification" else "password reset"
    text = f"CureConnect: your {what} code is {code}. It expires in {int(CODE_TTL.total_seconds() // 60)} minutes."
    channel = str(user.get("contactType") or ("email" if "@" in str(user["contact"]) else "phone"))
    notify.send(channel, str(user["contact"]), f"CureConnect {what} code", text, kind=purpose, ref=user["_id"])


def _limit(key: str, window: timedelta, limit: int, now: datetime, message: str) -> None:
    since = store.claim_attempt(key, now, window, limit)
    if since is not None:
        retry = math.ceil((since + window - now).total_seconds())
        raise RateLimited(message, code=Code.TOO_MANY_CODES, retry_after=retry)


def _check_code(where: dict[str, Any], purpose: str, code: str, now: datetime) -> dict[str, Any]:
    """Claim one guess, then compare: at most CODE_ATTEMPTS comparisons per code, even in a burst."""
    import hmac

    user = store.claim_code_guess(where, purpose, now, CODE_ATTEMPTS)
    if user is None:
        raise Unprocessable("The code is wrong, expired or used up; ask for a new one", code=Code.INVALID_CODE,
                            errors=[{"field": "code", "message": "is not valid"}])
    expected = str((user.get(purpose) or {}).get("codeHash", ""))
    if not hmac.compare_digest(expected, _code_hash(purpose, user["_id"], code)):
        raise Unprocessable("The code is wrong, expired or used up; ask for a new one", code=Code.INVALID_CODE,
                            errors=[{"field": "code", "message": "is not valid"}])
    return user


def send_contact_code(principal: Principal) -> dict[str, Any]:
    """POST /verify/contact/send: a 6-digit code to the caller's contact, valid 10 minutes;
    at most 3 an hour."""
    if principal.user.get("contactVerified"):
        raise Conflict("Your contact is already verified", code=Code.ALREADY_VERIFIED)
    now = clock.now()
    _limit(f"verify-send|{principal.id}", timedelta(hours=1), CODES_PER_HOUR, now,
           "Too many codes asked for; try again later")
    _new_code("verification", principal.user, now)
    return {"message": "A verification code was sent", "expiresInSeconds": int(CODE_TTL.total_seconds())}


def confirm_contact(principal: Principal, body: VerifyConfirmBody) -> dict[str, Any]:
    """POST /verify/contact/confirm {code}: 5 guesses per code."""
    if principal.user.get("contactVerified"):
        return self_view(principal.user)
    now = clock.now()
    user = _check_code({"_id": principal.id}, "verification", body.code, now)
    code_hash = str(user["verification"]["codeHash"])
    if not store.mark_contact_verified(principal.id, code_hash, now):
        raise Unprocessable("The code was replaced meanwhile; use the newest one", code=Code.INVALID_CODE)
    logger.info("Contact verified", extra={"userId": str(principal.id)})
    return self_view({**principal.user, "contactVerified": True, "contactVerifiedAt": now})


def forgot_password(body: ForgotPasswordBody, source_ip: str) -> dict[str, Any]:
    """POST /password/forgot {contact}: a one-time code to that contact if it belongs to an
    account and was verified; the same answer either way. Limited per contact and per address."""
    now = clock.now()
    key = login_key(body.contact)
    _limit(f"forgot-ip|{source_ip}", timedelta(hours=1), 20, now, "Too many requests; try again later")
    _limit(f"forgot|{key}", timedelta(hours=1), CODES_PER_HOUR, now, "Too many codes asked for; try again later")
    user = store.find_for_login(key)
    if user is not None and user.get("contactVerified") and user.get("active", True):
        _new_code("recovery", user, now)
    return {"message": _SAME_ANSWER}


def reset_password(body: ResetPasswordBody, source_ip: str) -> dict[str, Any]:
    """POST /password/reset {contact, code, newPassword}: sets the password, ends every session
    and lifts the contact's login lockout (so the owner always gets back in)."""
    now = clock.now()
    key = login_key(body.contact)
    _limit(f"reset-ip|{source_ip}", _window(), 20, now, "Too many attempts; try again later")
    user = _check_code({"contact": key}, "recovery", body.code, now)
    check_password_rules(body.newPassword, user.get("contact"), user.get("name"))
    if not store.reset_password(user["_id"], str(user["recovery"]["codeHash"]), hash_password(body.newPassword), now):
        raise Unprocessable("The code was replaced meanwhile; use the newest one", code=Code.INVALID_CODE)
    Attempt(f"ip|{source_ip}|{key}", f"c|{key}").lifted()
    logger.info("Password reset", extra={"userId": str(user["_id"])})
    return {"message": "Your password was reset; log in with the new one"}


# ---------------------------------------------------------------- periodic work (core.jobs)


def sweep(now: datetime) -> dict[str, int]:
    """Expired login-failure windows (TTL indexes are not enforced on the embedded database)."""
    return {"loginWindowsPurged": store.purge_expired_windows(now)}
