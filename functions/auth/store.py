"""MongoDB access for accounts, the doctor directory, medical history and login counters.

Every write is one single-document atomic operation. FerretDB 1.24 gaps met here (checked on
the embedded server): `$pull` with a condition and `$push` with `$slice` are silently ignored,
`findAndModify` cannot project, and TTL indexes cannot be created (`core.db` then creates them
without expiry), so expiry is always also checked by time in code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument
from pymongo.errors import DuplicateKeyError

from functions.core.db import get_db
from functions.core.errors import Conflict

USERS = "users"
LOGIN_FAILURES = "login_failures"  # per-contact failure windows for contacts without an account

INDEXES = {
    USERS: [
        IndexModel([("contact", ASCENDING)], unique=True, name="contact_unique"),
        IndexModel([("role", ASCENDING), ("approvalStatus", ASCENDING), ("nameKey", ASCENDING)], name="directory"),
        IndexModel([("role", ASCENDING), ("approvalStatus", ASCENDING), ("createdAt", DESCENDING)], name="admin_list"),
        IndexModel([("createdAt", DESCENDING)], name="created"),
    ],
    LOGIN_FAILURES: [
        IndexModel([("expiresAt", ASCENDING)], expireAfterSeconds=0, name="expires_ttl"),
    ],
}

# Never loaded when a user is read for login: the record's PHI and the deny-list.
LOGIN_PROJECTION = {"medicalHistory": 0, "revokedTokens": 0, "revokedJtis": 0}
# Never loaded for an account view (admin, profile update).
ACCOUNT_PROJECTION = {"passwordHash": 0, "revokedTokens": 0, "revokedJtis": 0, "loginFailures": 0, "medicalHistory": 0,
                      "verification": 0, "recovery": 0}
# The patient record (`complete-data`): the history included, secrets and counters not.
PATIENT_PROJECTION = {k: v for k, v in ACCOUNT_PROJECTION.items() if k != "medicalHistory"}
DOCTOR_PUBLIC = {"_id": 1, "name": 1, "speciality": 1, "bio": 1, "languages": 1, "consultationFee": 1,
                 "currency": 1, "timezone": 1, "avatar": 1}
LISTED_DOCTOR = {"role": "doctor", "approvalStatus": "approved", "active": True}


def _users() -> Any:
    return get_db()[USERS]


def _total(collection: Any, query: dict[str, Any], page: list[Any], skip: int, limit: int) -> int:
    """The number of matches; a short page already tells it, saving the count round trip."""
    if len(page) < limit and (page or skip == 0):
        return skip + len(page)
    return int(collection.count_documents(query))


# ---------------------------------------------------------------- accounts


def insert_user(doc: dict[str, Any]) -> ObjectId:
    try:
        inserted: ObjectId = _users().insert_one(doc).inserted_id
    except DuplicateKeyError:
        raise Conflict("An account with this contact already exists", code="CONTACT_TAKEN") from None
    return inserted


def find_for_login(contact: str) -> dict[str, Any] | None:
    found: dict[str, Any] | None = _users().find_one({"contact": contact}, LOGIN_PROJECTION)
    return found


def find_credentials(user_id: ObjectId) -> dict[str, Any] | None:
    found: dict[str, Any] | None = _users().find_one(
        {"_id": user_id}, {"passwordHash": 1, "loginFailures": 1, "sessionVersion": 1})
    return found


def find_account(user_id: ObjectId) -> dict[str, Any] | None:
    found: dict[str, Any] | None = _users().find_one({"_id": user_id}, ACCOUNT_PROJECTION)
    return found


def update_account(user_id: ObjectId, changes: dict[str, Any], extra: dict[str, Any] | None = None,
                   condition: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """`$set` the changes (plus other operators in `extra`); the document after, or None if no
    document matched. The caller strips private fields (findAndModify cannot project on FerretDB)."""
    update: dict[str, Any] = {"$set": changes, **(extra or {})}
    found: dict[str, Any] | None = _users().find_one_and_update(
        {"_id": user_id, **(condition or {})}, update, return_document=ReturnDocument.AFTER)
    return found


def replace_password(user_id: ObjectId, session_version: int, password_hash: str,
                     now: datetime) -> dict[str, Any] | None:
    """New hash and a new session version (every older token dies with it); None if the
    session version moved meanwhile (a concurrent password change)."""
    return update_account(
        user_id,
        {"passwordHash": password_hash, "revokedTokens": [], "revokedJtis": {}, "updatedAt": now},
        {"$inc": {"sessionVersion": 1}, "$unset": {"loginFailures": ""}},
        {"sessionVersion": session_version},
    )


# ---------------------------------------------------------------- login failure windows
# A window is {count, since}: at most N failures from `since` to `since + window`.
# Accounts keep theirs on the user document, so the login's one user read also answers
# "is this contact locked?"; contacts without an account use LOGIN_FAILURES.


def record_account_failure(user_id: ObjectId, previous: dict[str, Any] | None, fresh_window: bool,
                           now: datetime) -> None:
    users = _users()
    if not fresh_window:
        users.update_one({"_id": user_id}, {"$inc": {"loginFailures.count": 1}})
        return
    since = previous.get("since") if previous else None
    started = users.update_one({"_id": user_id, "loginFailures.since": since},
                               {"$set": {"loginFailures": {"count": 1, "since": now}}})
    if started.matched_count == 0:  # a concurrent failure started the window first
        users.update_one({"_id": user_id}, {"$inc": {"loginFailures.count": 1}})


def clear_account_failures(user_id: ObjectId) -> None:
    _users().update_one({"_id": user_id}, {"$unset": {"loginFailures": ""}})


def record_contact_failure(key: str, now: datetime, window: timedelta) -> dict[str, Any]:
    """Count one failure for a contact without an account; the window after counting."""
    failures = get_db()[LOGIN_FAILURES]
    for _ in range(3):
        try:
            counted: dict[str, Any] | None = failures.find_one_and_update(
                {"_id": key, "since": {"$gt": now - window}},
                {"$inc": {"count": 1}, "$setOnInsert": {"since": now, "expiresAt": now + window}},
                upsert=True, return_document=ReturnDocument.AFTER)
        except DuplicateKeyError:  # an expired window (TTL may not have removed it): restart it
            failures.update_one({"_id": key, "since": {"$lte": now - window}},
                                {"$set": {"count": 0, "since": now, "expiresAt": now + window}})
            continue
        if counted is not None:
            return counted
    raise RuntimeError("login failure window kept changing")


def purge_expired_contact_failures(now: datetime) -> int:
    """For a periodic sweeper where TTL indexes are not enforced (FerretDB)."""
    return int(get_db()[LOGIN_FAILURES].delete_many({"expiresAt": {"$lte": now}}).deleted_count)


# ---------------------------------------------------------------- token deny-list


def revoke_token(user_id: ObjectId, jti: str, expires: datetime, expired: Iterable[str] = ()) -> None:
    """Put the token on the user's deny-list (`revokedJtis.<jti>` = its expiry) and drop entries
    whose token has expired anyway, in one single-document write. A map, not an array: no
    filter or update on it needs array semantics the embedded server gets wrong."""
    update: dict[str, Any] = {"$set": {f"revokedJtis.{jti}": expires}}
    stale = {f"revokedJtis.{old}": "" for old in expired if old != jti}
    if stale:
        update["$unset"] = stale
    _users().update_one({"_id": user_id}, update)


# ---------------------------------------------------------------- directory


def doctor_filter(speciality: str | None, name_part: str | None) -> dict[str, Any]:
    query: dict[str, Any] = dict(LISTED_DOCTOR)
    if speciality:
        query["speciality"] = {"$regex": f"^{re.escape(speciality)}$", "$options": "i"}
    if name_part:
        query["nameKey"] = {"$regex": re.escape(name_part)}
    return query


def list_doctors(query: dict[str, Any], skip: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    users = _users()
    items = list(users.find(query, DOCTOR_PUBLIC).sort([("nameKey", ASCENDING), ("_id", ASCENDING)])
                 .skip(skip).limit(limit))
    return items, _total(users, query, items, skip, limit)


def find_listed_doctor(doctor_id: ObjectId) -> dict[str, Any] | None:
    found: dict[str, Any] | None = _users().find_one({"_id": doctor_id, **LISTED_DOCTOR}, DOCTOR_PUBLIC)
    return found


# ---------------------------------------------------------------- medical history


def push_history(user_id: ObjectId, entry: dict[str, Any], cap: int) -> dict[str, Any] | None:
    """Append unless the history already holds `cap` entries; the user after, or None."""
    found: dict[str, Any] | None = _users().find_one_and_update(
        {"_id": user_id, f"medicalHistory.{cap - 1}": {"$exists": False}},
        {"$push": {"medicalHistory": entry}},
        return_document=ReturnDocument.AFTER)
    return found


def find_patient(user_id: ObjectId) -> dict[str, Any] | None:
    found: dict[str, Any] | None = _users().find_one(
        {"_id": user_id, "role": "patient"}, PATIENT_PROJECTION)
    return found


def find_history(user_id: ObjectId) -> list[dict[str, Any]] | None:
    found = _users().find_one({"_id": user_id}, {"medicalHistory": 1})
    return None if found is None else list(found.get("medicalHistory") or [])


# Who a document names (author, patient): display fields and the contact to notify; no secrets or PHI.
PERSON_PROJECTION = {"name": 1, "role": 1, "speciality": 1, "registrationNumber": 1, "dateOfBirth": 1,
                     "contact": 1, "contactType": 1, "timezone": 1}


def people_by_ids(ids: list[ObjectId]) -> dict[ObjectId, dict[str, Any]]:
    """Name, role, speciality, registration number, date of birth and contact of each listed
    user, in one `$in` read (for joins: callers pass at most a page of ids)."""
    if not ids:
        return {}
    return {doc["_id"]: doc for doc in _users().find({"_id": {"$in": list(ids)}}, PERSON_PROJECTION)}


# ---------------------------------------------------------------- admin


def list_accounts(query: dict[str, Any], skip: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    users = _users()
    items = list(users.find(query, ACCOUNT_PROJECTION).sort([("createdAt", DESCENDING), ("_id", DESCENDING)])
                 .skip(skip).limit(limit))
    return items, _total(users, query, items, skip, limit)
