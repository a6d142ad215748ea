"""Rules of accounts, sessions, the doctor directory, medical history and user administration.

Pure Python, no Chalice: each public function is one use case; routes.py does the HTTP.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from bson import ObjectId

from functions.auth import store
from functions.auth.schemas import (
    DOCTOR_FIELDS,
    ActiveBody,
    ApprovalBody,
    DoctorsQuery,
    LoginBody,
    MedicalHistoryBody,
    PasswordUpdateBody,
    RegisterBody,
    UpdateMeBody,
    UsersQuery,
)
from functions.core import audit, clock
from functions.core.care import doctor_treats_patient
from functions.core.config import get_settings
from functions.core.db import object_id
from functions.core.errors import Conflict, NotFound, RateLimited, Unauthorized, Unprocessable
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
    """A user as the user themself (or an admin) sees it."""
    return {k: v for k, v in user.items() if k not in PRIVATE_FIELDS}


def public_doctor(doctor: dict[str, Any]) -> dict[str, Any]:
    """A doctor as anyone sees it: never contact details (D-31) nor scheduling internals."""
    return {k: doctor.get(k) for k in store.DOCTOR_PUBLIC}


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
        raise Unprocessable("Invalid contact", code="INVALID_CONTACT",
                            errors=[{"field": "contact", "message": str(exc)}]) from None


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
        raise Unprocessable("Admin accounts cannot be created by sign-up", code="ROLE_NOT_ALLOWED",
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


def _in_window(failures: dict[str, Any] | None, now: datetime) -> bool:
    return bool(failures and failures.get("since") and failures["since"] + _window() > now)


def _check_lock(failures: dict[str, Any] | None, now: datetime, *, counted_this_attempt: bool = False) -> None:
    """429 while the window already held LOGIN_MAX_FAILURES failures before this attempt."""
    if not failures or not _in_window(failures, now):
        return
    earlier = int(failures.get("count", 0)) - (1 if counted_this_attempt else 0)
    if earlier >= get_settings().login_max_failures:
        retry = math.ceil((failures["since"] + _window() - now).total_seconds())
        logger.info("Login refused: too many failures")
        raise RateLimited("Too many failed attempts, try again later", code="LOGIN_LOCKED", retry_after=retry)


def _bad_credentials() -> Unauthorized:
    logger.info("Login failed")
    return Unauthorized("Invalid contact or password", code="INVALID_CREDENTIALS")


def login(body: LoginBody) -> tuple[dict[str, Any], str]:
    """One user read on success; one more write only when the attempt fails. Unknown contacts
    and wrong passwords look the same, lockout included."""
    now = clock.now()
    key = login_key(body.contact)
    user = store.find_for_login(key)
    if user is None:
        _check_lock(store.record_contact_failure(key, now, _window()), now, counted_this_attempt=True)
        verify_password(None, body.password)  # spend the time a real check takes
        raise _bad_credentials()
    failures = user.get("loginFailures")
    _check_lock(failures, now)
    if not verify_password(user.get("passwordHash"), body.password):
        store.record_account_failure(user["_id"], failures, not _in_window(failures, now), now)
        raise _bad_credentials()
    if failures:
        store.clear_account_failures(user["_id"])
    if not user.get("active", True):
        raise Unauthorized("This account is deactivated", code="ACCOUNT_INACTIVE")
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
        raise Unprocessable("Only doctors have these fields", code="FIELD_NOT_ALLOWED",
                            errors=[{"field": f, "message": "only doctors have this field"} for f in not_mine])
    if not changes:
        raise Unprocessable("Nothing to update", code="NOTHING_TO_UPDATE")
    if "name" in changes:
        changes["nameKey"] = changes["name"].casefold()
    changes["updatedAt"] = clock.now()
    updated = store.update_account(principal.id, changes)
    if updated is None:
        raise Unauthorized("Invalid or expired token", code="INVALID_TOKEN")
    return self_view(updated)


def update_password(principal: Principal, body: PasswordUpdateBody) -> tuple[dict[str, Any], str]:
    """Checks the current password (wrong guesses count towards the login lockout), then sets
    the new one and starts a new session version: every other token of the user stops working."""
    now = clock.now()
    creds = store.find_credentials(principal.id)
    if creds is None:
        raise Unauthorized("Invalid or expired token", code="INVALID_TOKEN")
    failures = creds.get("loginFailures")
    _check_lock(failures, now)
    if not verify_password(creds.get("passwordHash"), body.oldPassword):
        store.record_account_failure(principal.id, failures, not _in_window(failures, now), now)
        raise Unprocessable("The current password is not correct", code="WRONG_PASSWORD",
                            errors=[{"field": "oldPassword", "message": "is not correct"}])
    if body.newPassword == body.oldPassword:
        raise Unprocessable("The new password must differ from the current one", code="SAME_PASSWORD",
                            errors=[{"field": "newPassword", "message": "must differ from the current password"}])
    updated = store.replace_password(principal.id, int(creds.get("sessionVersion", 0)),
                                     hash_password(body.newPassword), now)
    if updated is None:
        raise Conflict("The password was changed meanwhile; log in again", code="PASSWORD_CHANGED")
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


def list_doctors(query: DoctorsQuery) -> tuple[list[dict[str, Any]], int]:
    """Approved, active doctors; `q` is matched as literal text within the name, never as a regex."""
    name_part = query.q.casefold() if query.q else None
    items, total = store.list_doctors(store.doctor_filter(query.speciality, name_part), query.skip, query.limit)
    return [public_doctor(d) for d in items], total


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
        raise Unprocessable(f"The medical history already holds {HISTORY_CAP} entries", code="HISTORY_FULL")
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
        raise Unprocessable("Only doctor and pharmacist accounts need approval", code="NOT_APPROVABLE")
    audit.record(admin.user, f"approval.{body.status}", "user", oid, body.reason, subject_id=oid)
    return self_view(updated)


def set_active(admin: Principal, user_id: str, body: ActiveBody) -> dict[str, Any]:
    """Deactivation ends every session at once (new session version) and blocks login."""
    oid = object_id(user_id, "User")
    if oid == admin.id:
        raise Unprocessable("You cannot change your own account's active flag", code="SELF_DEACTIVATION",
                            errors=[{"field": "active", "message": "not allowed on your own account"}])
    extra = None if body.active else {"$inc": {"sessionVersion": 1}}
    updated = store.update_account(oid, {"active": body.active, "updatedAt": clock.now()}, extra)
    if updated is None:
        raise NotFound("User not found")
    action = "account.activated" if body.active else "account.deactivated"
    audit.record(admin.user, action, "user", oid, body.reason, subject_id=oid)
    return self_view(updated)
