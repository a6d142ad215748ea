"""The owner of the `users` collection: the only module that issues commands to it.

It sits at the bottom of the layering because the guard (`core.security`) and the notifier
(`core.notify`) read users too; every domain (accounts in auth, a doctor's availability and time
off in appointments, the emergency line, the pharmacy's joins) calls the functions below. The
field lists live here: `PRIVATE_USER_FIELDS` is the one list of fields never sent to a client,
and every exclusion projection is derived from it. Who is a *listed doctor* is defined once, in
`core.directory`, and every read of listed doctors here filters with it.

Every write is one single-document atomic operation. FerretDB 1.24 ignores `$pull` with a
condition and `$push` with `$slice`, and `findAndModify` cannot project: maps stand in for
arrays (`revokedJtis`, `timeOff`, `mfa.recovery`); callers strip what an update returns.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument

from functions.core.db import get_db, insert_unless_duplicate, unless_duplicate
from functions.core.directory import AVAILABILITY_FIELDS, LISTED_DOCTOR
from functions.core.errors import Code, Conflict
from functions.core.paging import find_page

USERS = "users"
# The one definition of the user fields never sent to any client: secrets, counters, internal
# keys, and PHI that has its own route.
PRIVATE_USER_FIELDS = frozenset({"passwordHash", "revokedTokens", "revokedJtis", "loginFailures", "sessionVersion",
                                 "nameKey", "medicalHistory", "verification", "verificationLink", "recovery",
                                 "closeSockets", "closeSocketsBefore", "contactClaim", "contactReleased", "mfa"})

INDEXES = {
    USERS: [
        IndexModel([("contact", ASCENDING)], unique=True, name="contact_unique"),
        IndexModel([("role", ASCENDING), ("approvalStatus", ASCENDING), ("nameKey", ASCENDING)], name="directory"),
        IndexModel([("role", ASCENDING), ("approvalStatus", ASCENDING), ("createdAt", DESCENDING)], name="admin_list"),
        IndexModel([("createdAt", DESCENDING)], name="created"),
        IndexModel([("closeSockets", ASCENDING)], name="sockets_to_close"),
        IndexModel([("status", ASCENDING), ("eraseAfter", ASCENDING)], name="deletion"),  # closing, erasing
    ],
}


def _hiding(*shown: str) -> dict[str, int]:
    """An exclusion projection: every private field except those a reader needs (`shown`)."""
    return {f: 0 for f in sorted(PRIVATE_USER_FIELDS - set(shown))}


# An account view (admin, profile): the session version and name key load, the views strip them.
ACCOUNT_PROJECTION = _hiding("sessionVersion", "nameKey")
# The patient record (`complete-data`): the history included.
PATIENT_PROJECTION = _hiding("sessionVersion", "nameKey", "medicalHistory")
# Who a user is for the guard and for booking (`find_doctor`): the session version included.
GUARD_PROJECTION = _hiding("sessionVersion", "nameKey", "recovery")
# The guard's own read keeps the token deny-lists (the map, and the array of the first version).
_AUTH_PROJECTION = _hiding("sessionVersion", "nameKey", "recovery", "revokedTokens", "revokedJtis")
# Login reads the hash, the codes and the counters; never the record's PHI or the deny-lists.
LOGIN_PROJECTION = _hiding("passwordHash", "loginFailures", "sessionVersion", "nameKey", "verification",
                           "verificationLink", "recovery")
_CREDENTIALS = _hiding("passwordHash", "sessionVersion", "nameKey", "mfa")  # password change, two-factor sign-in
DOCTOR_PUBLIC = {"_id": 1, "name": 1, "speciality": 1, "bio": 1, "languages": 1, "consultationFee": 1,
                 "currency": 1, "timezone": 1, "avatar": 1}
# Read for the directory: the public fields and what the `availability` boolean is computed from.
DOCTOR_LISTING = {**DOCTOR_PUBLIC, **AVAILABILITY_FIELDS}
# Who a document names (author, patient): display fields and the contact to notify; no secrets or PHI.
PERSON_PROJECTION = {"name": 1, "role": 1, "speciality": 1, "registrationNumber": 1, "dateOfBirth": 1,
                     "contact": 1, "contactType": 1, "timezone": 1}
_CONTACT = {"name": 1, "contact": 1, "contactType": 1, "role": 1}
# Used up once the contact is verified: the code, the link, and any claim of the contact by
# someone else (a verified contact can no longer be claimed, `release_contact`).
_VERIFIED_NOW = ("verification", "verificationLink", "contactClaim")


def _users() -> Any:
    return get_db()[USERS]


# ---------------------------------------------------------------- the guard and the notifier


def for_guard(user_id: ObjectId) -> dict[str, Any] | None:
    """The user a token names, with its deny-lists: the guard's one read."""
    found: dict[str, Any] | None = _users().find_one({"_id": user_id}, _AUTH_PROJECTION)
    return found


def for_guard_with(user_id: ObjectId, others: Sequence[ObjectId]) -> tuple[dict[str, Any] | None,
                                                                         dict[ObjectId, dict[str, Any] | None]]:
    """The guard's read and, in the same round trip (one `_id $in`), the other users the request
    names (the doctor of a booking): `others` maps each to its document (as `GUARD_PROJECTION`
    shows it: without the deny-lists) or None when there is no such user."""
    wanted = [oid for oid in dict.fromkeys(others) if oid != user_id]
    if not wanted:
        return for_guard(user_id), {}
    found = {d["_id"]: d for d in _users().find({"_id": {"$in": [user_id, *wanted]}}, _AUTH_PROJECTION)}
    for doc in found.values():
        if doc["_id"] != user_id:
            doc.pop("revokedTokens", None)
            doc.pop("revokedJtis", None)
    return found.get(user_id), {oid: found.get(oid) for oid in wanted}


def contact_verified(contact: str) -> bool | None:
    """Whether the account with this contact verified it; None when no account has it."""
    found = _users().find_one({"contact": contact}, {"contactVerified": 1})
    return None if found is None else bool(found.get("contactVerified"))


# ---------------------------------------------------------------- accounts


def insert_user(doc: dict[str, Any]) -> ObjectId:
    if not insert_unless_duplicate(_users(), doc):
        raise Conflict("An account with this contact already exists", code=Code.CONTACT_TAKEN)
    inserted: ObjectId = doc["_id"]
    return inserted


def find_for_login(contact: str) -> dict[str, Any] | None:
    found: dict[str, Any] | None = _users().find_one({"contact": contact}, LOGIN_PROJECTION)
    return found


def find_credentials(user_id: ObjectId) -> dict[str, Any] | None:
    """The account with its password hash, session version and second factor (`mfa`, encrypted)."""
    found: dict[str, Any] | None = _users().find_one({"_id": user_id}, _CREDENTIALS)
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


def update_account_before(user_id: ObjectId, changes: dict[str, Any]) -> dict[str, Any] | None:
    """`$set` the changes; the document BEFORE (so the caller knows exactly what it replaced, e.g.
    the avatar to destroy, even under concurrent updates), or None if no document matched."""
    found: dict[str, Any] | None = _users().find_one_and_update(
        {"_id": user_id}, {"$set": changes}, return_document=ReturnDocument.BEFORE)
    return found


def replace_password(user_id: ObjectId, session_version: int, password_hash: str,
                     now: datetime) -> dict[str, Any] | None:
    """New hash and a new session version (every older token dies with it); None if the
    session version moved meanwhile (a concurrent password change)."""
    return update_account(
        user_id,
        {"passwordHash": password_hash, "revokedTokens": [], "revokedJtis": {}, "updatedAt": now},
        {"$inc": {"sessionVersion": 1}},
        {"sessionVersion": session_version},
    )


def revoke_token(user_id: ObjectId, jti: str, expires: datetime, expired: Iterable[str] = ()) -> None:
    """Put the token on the user's deny-list (`revokedJtis.<jti>` = its expiry) and drop entries
    whose token has expired anyway, in one single-document write. A map, not an array: no
    filter or update on it needs array semantics the embedded server gets wrong."""
    update: dict[str, Any] = {"$set": {f"revokedJtis.{jti}": expires}}
    stale = {f"revokedJtis.{old}": "" for old in expired if old != jti}
    if stale:
        update["$unset"] = stale
    _users().update_one({"_id": user_id}, update)


# ---------------------------------------------------------------- sockets to close
# An admin decision that takes a user's right to a socket away (deactivation, approval withdrawn)
# sets `closeSockets: true` and `closeSocketsBefore: <decision time>` in the same write as the
# state; the auth sweep closes the sockets opened before that time and clears the pair, so a
# socket the request could not close (the database or the gateway away) is closed by the sweep.


def sockets_to_close(limit: int) -> list[dict[str, Any]]:
    """Users whose sockets opened before `closeSocketsBefore` may still be open (index `sockets_to_close`)."""
    return list(_users().find({"closeSockets": True}, {"closeSocketsBefore": 1}).limit(limit))


def sockets_closed(user_id: ObjectId, before: datetime) -> bool:
    """Clear the flag of the decision made at `before` (a newer decision keeps its own)."""
    result = _users().update_one({"_id": user_id, "closeSocketsBefore": before},
                                 {"$unset": {"closeSockets": "", "closeSocketsBefore": ""}})
    return bool(result.modified_count)


def list_accounts(query: dict[str, Any], skip: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    return find_page(_users(), query, sort=[("createdAt", DESCENDING), ("_id", DESCENDING)], skip=skip,
                     limit=limit, projection=ACCOUNT_PROJECTION)


def count_role(role: str, since: Any = None) -> int:
    query: dict[str, Any] = {"role": role}
    if since is not None:
        query["createdAt"] = {"$gte": since}
    return int(_users().count_documents(query))


# ---------------------------------------------------------------- one-time codes
# A code is {codeHash, expiresAt, attempts} under `verification` (contact verification) or
# `recovery` (password reset) on the user document. Each guess is claimed by one conditional
# `$inc` before it is compared, so at most CODE_ATTEMPTS guesses are ever compared.


def set_code(user_id: ObjectId, purpose: str, code_hash: str, expires: datetime) -> None:
    """A new code replaces any earlier one (and its attempt count)."""
    _users().update_one({"_id": user_id}, {"$set": {purpose: {"codeHash": code_hash, "expiresAt": expires,
                                                              "attempts": 0}}})


def claim_code_guess(where: dict[str, Any], purpose: str, now: datetime, max_attempts: int) -> dict[str, Any] | None:
    """Count one guess against the live code of the user `where` selects; the user after (its
    code to compare), or None when there is no live code or its guesses are used up."""
    found: dict[str, Any] | None = _users().find_one_and_update(
        {**where, f"{purpose}.expiresAt": {"$gt": now}, f"{purpose}.attempts": {"$lt": max_attempts}},
        {"$inc": {f"{purpose}.attempts": 1}}, return_document=ReturnDocument.AFTER)
    return found


def mark_contact_verified(user_id: ObjectId, code_hash: str, now: datetime) -> bool:
    """Verified, and the code (and any link) used up, only while that code is still the live one."""
    return bool(_users().update_one({"_id": user_id, "verification.codeHash": code_hash},
                                    {"$set": {"contactVerified": True, "contactVerifiedAt": now, "updatedAt": now},
                                     "$unset": dict.fromkeys(_VERIFIED_NOW, "")}).modified_count == 1)


def link_is_live(user_id: ObjectId, link_hash: str, now: datetime) -> bool:
    """Is this the user's unused, unexpired verification link (read only: opening it changes nothing)?"""
    live = {"_id": user_id, "verificationLink.codeHash": link_hash, "verificationLink.expiresAt": {"$gt": now}}
    return _users().find_one(live, {"_id": 1}) is not None


def verify_by_link(user_id: ObjectId, link_hash: str, now: datetime) -> bool:
    """Verified, and the link (and any code) used up, only while that link is live: one
    conditional write, so a link works once, however many times it is posted at once."""
    live = {"_id": user_id, "verificationLink.codeHash": link_hash, "verificationLink.expiresAt": {"$gt": now}}
    return bool(_users().update_one(live, {"$set": {"contactVerified": True, "contactVerifiedAt": now,
                                                    "updatedAt": now},
                                           "$unset": dict.fromkeys(_VERIFIED_NOW, "")}).modified_count == 1)


def reset_password(user_id: ObjectId, code_hash: str, password_hash: str, now: datetime) -> bool:
    """New password and session version (every session ends), only while that recovery code is
    the live one; the code is used up in the same write."""
    return bool(_users().update_one(
        {"_id": user_id, "recovery.codeHash": code_hash},
        {"$set": {"passwordHash": password_hash, "revokedJtis": {}, "updatedAt": now},
         "$inc": {"sessionVersion": 1}, "$unset": {"recovery": ""}}).modified_count == 1)


# ---------------------------------------------------------------- doctors: the directory, availability, time off


def doctor_filter(speciality: str | None, name_part: str | None) -> dict[str, Any]:
    query: dict[str, Any] = dict(LISTED_DOCTOR)
    if speciality:
        query["speciality"] = {"$regex": f"^{re.escape(speciality)}$", "$options": "i"}
    if name_part:
        query["nameKey"] = {"$regex": re.escape(name_part)}
    return query


def list_doctors(query: dict[str, Any], skip: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    return find_page(_users(), query, sort=[("nameKey", ASCENDING), ("_id", ASCENDING)], skip=skip, limit=limit,
                     projection=DOCTOR_LISTING)


def find_listed_doctor(doctor_id: ObjectId) -> dict[str, Any] | None:
    found: dict[str, Any] | None = _users().find_one({"_id": doctor_id, **LISTED_DOCTOR}, DOCTOR_LISTING)
    return found


def listed_doctor_ids(ids: Sequence[ObjectId]) -> set[ObjectId]:
    """Which of `ids` are listed doctors (one `$in` read): the directory's definition, so the
    emergency line dials exactly the doctors a patient could find and book."""
    found = _users().find({"_id": {"$in": list(ids)}, **LISTED_DOCTOR}, {"_id": 1})
    return {doc["_id"] for doc in found}


def find_doctor(doctor_id: ObjectId) -> dict[str, Any] | None:
    found: dict[str, Any] | None = _users().find_one({"_id": doctor_id, "role": "doctor"}, GUARD_PROJECTION)
    return found


def set_availability(doctor_id: ObjectId, availability: dict[str, Any]) -> None:
    _users().update_one({"_id": doctor_id, "role": "doctor"}, {"$set": {"availability": availability}})


def add_time_off(doctor_id: ObjectId, key: str, entry: dict[str, Any], expired: Iterable[str]) -> None:
    """Time off is a map id -> entry (FerretDB v1.24 cannot `$pull` by condition); ended entries
    are dropped in the same write."""
    update: dict[str, Any] = {"$set": {f"timeOff.{key}": entry}}
    stale = {f"timeOff.{old}": "" for old in expired}
    if stale:
        update["$unset"] = stale
    _users().update_one({"_id": doctor_id, "role": "doctor"}, update)


def remove_time_off(doctor_id: ObjectId, key: str) -> bool:
    result = _users().update_one({"_id": doctor_id, f"timeOff.{key}": {"$exists": True}},
                                 {"$unset": {f"timeOff.{key}": ""}})
    return bool(result.modified_count == 1)


# ---------------------------------------------------------------- medical history


def push_history(user_id: ObjectId, entry: dict[str, Any], cap: int) -> dict[str, Any] | None:
    """Append unless the history already holds `cap` entries; the user after, or None."""
    found: dict[str, Any] | None = _users().find_one_and_update(
        {"_id": user_id, f"medicalHistory.{cap - 1}": {"$exists": False}},
        {"$push": {"medicalHistory": entry}},
        return_document=ReturnDocument.AFTER)
    return found


def find_patient(user_id: ObjectId) -> dict[str, Any] | None:
    found: dict[str, Any] | None = _users().find_one({"_id": user_id, "role": "patient"}, PATIENT_PROJECTION)
    return found


def find_history(user_id: ObjectId) -> list[dict[str, Any]] | None:
    found = _users().find_one({"_id": user_id}, {"medicalHistory": 1})
    return None if found is None else list(found.get("medicalHistory") or [])


# ---------------------------------------------------------------- joins and lookups of other domains


def people_by_ids(ids: list[ObjectId]) -> dict[ObjectId, dict[str, Any]]:
    """Name, role, speciality, registration number, date of birth and contact of each listed
    user, in one `$in` read (for joins: callers pass at most a page of ids)."""
    if not ids:
        return {}
    return {doc["_id"]: doc for doc in _users().find({"_id": {"$in": list(ids)}}, PERSON_PROJECTION)}


def users_by_id(ids: Sequence[ObjectId]) -> dict[ObjectId, dict[str, Any]]:
    """Name, contact, time zone and role of each user (one `$in` read): appointments' notices."""
    found = _users().find({"_id": {"$in": list(ids)}},
                          {"name": 1, "contact": 1, "contactType": 1, "timezone": 1, "role": 1})
    return {doc["_id"]: doc for doc in found}


def contacts(ids: Sequence[ObjectId]) -> dict[ObjectId, dict[str, Any]]:
    """Name and contact of each user (one `$in` read by `_id`)."""
    if not ids:
        return {}
    return {doc["_id"]: doc for doc in _users().find({"_id": {"$in": list(set(ids))}}, _CONTACT)}


def by_contact(contact: str) -> dict[str, Any] | None:
    """The account with that (normalised) contact, by its unique index."""
    found: dict[str, Any] | None = _users().find_one({"contact": contact}, {**_CONTACT, "approvalStatus": 1})
    return found


# ---------------------------------------------------------------- contacts: claims and admin changes
# A contact held only by an account that never proved it can be claimed by whoever proves it
# (issue 21 item 4, contact squatting; the use case is `functions/auth/claims.py`). The claim code
# lives on the holder's document under `contactClaim` ({codeHash, expiresAt, attempts}, like the
# other codes); the release replaces the holder's contact with a placeholder no message goes to.

PLACEHOLDER_DOMAIN = "contact.invalid"  # a reserved TLD (RFC 2606): `core.notify` sends nothing to it
_CLAIMABLE = {"contactVerified": {"$ne": True}, "role": {"$ne": "admin"}}  # admins are made by the operator
_CODES = ("verification", "verificationLink", "recovery", "contactClaim")  # codes sent to a contact


def placeholder_contact(user_id: ObjectId) -> str:
    """The contact of an account whose contact was claimed: unique (its id), never written to."""
    return f"released-{user_id}@{PLACEHOLDER_DOMAIN}"


def contact_holder(contact: str) -> dict[str, Any] | None:
    """The account holding `contact` (its unique index): whether it proved it, its role, active flag."""
    found: dict[str, Any] | None = _users().find_one({"contact": contact}, {"role": 1, "contactVerified": 1,
                                                                           "active": 1, "contactType": 1})
    return found


def claimable(holder: dict[str, Any]) -> bool:
    """Can the contact of this account (a `contact_holder` read) be claimed? The filter's rule, in Python."""
    return holder.get("contactVerified") is not True and holder.get("role") != "admin"


def set_claim_code(user_id: ObjectId, contact: str, code_hash: str, expires: datetime) -> bool:
    """A new claim code on the account holding `contact`, replacing an earlier one, only while the
    contact is still its own and unproven (False: verified or changed meanwhile)."""
    return bool(_users().update_one(
        {"_id": user_id, "contact": contact, **_CLAIMABLE},
        {"$set": {"contactClaim": {"codeHash": code_hash, "expiresAt": expires, "attempts": 0}}}).matched_count == 1)


def release_contact(user_id: ObjectId, contact: str, code_hash: str, claimed_by: ObjectId, now: datetime) -> bool:
    """The claim's deciding write: while `code_hash` is the live claim code and the contact still
    unproven, the holder gets a placeholder contact, is deactivated (new session version, its
    sockets marked to close like an admin's deactivation), and every code it had is used up;
    `contactReleased.by` names the account the claim makes (so only this run can undo it). One
    conditional write: of concurrent confirms of one code, exactly one releases."""
    return bool(_users().update_one(
        {"_id": user_id, "contact": contact, "contactClaim.codeHash": code_hash, **_CLAIMABLE},
        {"$set": {"contact": placeholder_contact(user_id), "contactType": "email", "active": False,
                  "contactReleased": {"by": claimed_by, "at": now}, "closeSockets": True,
                  "closeSocketsBefore": now, "updatedAt": now},
         "$inc": {"sessionVersion": 1}, "$unset": dict.fromkeys(_CODES, "")}).modified_count == 1)


def restore_contact(user_id: ObjectId, claimed_by: ObjectId, before: dict[str, Any], now: datetime) -> bool:
    """Undo `release_contact` of the claim that makes `claimed_by` (idempotent; nothing when it
    never applied): the contact, its type, the active flag and the claim code as they were
    (`before`), so the claimer may retry with the same code. The session version stays (the
    holder signs in again). False when nothing was undone, or when the contact was taken
    meanwhile (a sign-up between the release and the claim's insert): the holder keeps the
    placeholder."""
    with unless_duplicate() as taken:
        restored = _users().update_one(
            {"_id": user_id, "contactReleased.by": claimed_by},
            {"$set": {**before, "updatedAt": now},
             "$unset": {"contactReleased": "", "closeSockets": "", "closeSocketsBefore": ""}}).modified_count
    return not taken and restored == 1


def delete_account(user_id: ObjectId) -> None:
    """Only a claim's compensation: the account that claim inserted, by the id it chose."""
    _users().delete_one({"_id": user_id})


def change_contact(user_id: ObjectId, changes: dict[str, Any]) -> dict[str, Any] | None:
    """An admin's change of a user's contact (`changes`: contact, type, verified flag): codes sent
    to the old contact are used up. The document after, None if no user has `user_id`; 409
    CONTACT_TAKEN when another account holds the contact (the unique index decides)."""
    found: dict[str, Any] | None = None
    with unless_duplicate() as taken:
        found = _users().find_one_and_update({"_id": user_id}, {"$set": changes, "$unset": dict.fromkeys(_CODES, "")},
                                             return_document=ReturnDocument.AFTER)
    if taken:
        raise Conflict("Another account holds this contact", code=Code.CONTACT_TAKEN,
                       errors=[{"field": "contact", "message": "is held by another account"}])
    return found


# ---------------------------------------------------------------- a user's own deletion (issue 24 §3)
# `POST /me/delete` closes the account (`status: deletion_requested`, deactivated, every session
# ended, sockets marked) with `closingOut: true` until its appointments, offers and orders are
# cancelled; after `eraseAfter` the erase leaves a tombstone (`status: erased`) with no personal
# field and a placeholder contact (unique: the `contact_unique` index counts a missing contact as
# null on MongoDB), so the real contact is free for a new sign-up and ids in kept records resolve.

DELETION_REQUESTED, ERASING, ERASED = "deletion_requested", "erasing", "erased"
_DELETION = ("status", "deletionRequestedAt", "eraseAfter", "closingOut")
# What a tombstone keeps: its id, role (ids in kept records say who they were) and the dates.
TOMBSTONE_KEEPS = frozenset({"_id", "role", "status", "contact", "contactType", "active", "createdAt", "updatedAt",
                             "deletionRequestedAt", "eraseAfter", "erasedAt", "sessionVersion"})


def erased_contact(user_id: ObjectId) -> str:
    """The tombstone's contact: unique (its id), never written to (`core.notify` skips the domain)."""
    return f"erased-{user_id}@{PLACEHOLDER_DOMAIN}"


def close_for_deletion(user_id: ObjectId, now: datetime, erase_after: datetime) -> bool:
    """The deletion's deciding write: deactivated, a new session version (every token dies), the
    sockets marked, the erase due at `erase_after`, and `closingOut` until its bookings are
    cancelled; only while no deletion is under way (of concurrent requests, one closes)."""
    return bool(_users().update_one(
        {"_id": user_id, "status": {"$exists": False}},
        {"$set": {"active": False, "status": DELETION_REQUESTED, "deletionRequestedAt": now,
                  "eraseAfter": erase_after, "closingOut": True, "closeSockets": True, "closeSocketsBefore": now,
                  "updatedAt": now},
         "$inc": {"sessionVersion": 1}}).modified_count == 1)


def reopen(user_id: ObjectId, requested_at: datetime | None, now: datetime) -> dict[str, Any] | None:
    """Undo a deletion not erased yet: active again, the deletion's fields gone (the session
    version stays: the user signs in again). `requested_at`: only the deletion asked at that
    instant (a compensation); None: any (an admin's restore). The document after, or None."""
    query: dict[str, Any] = {"_id": user_id, "status": DELETION_REQUESTED}
    if requested_at is not None:
        query["deletionRequestedAt"] = requested_at
    found: dict[str, Any] | None = _users().find_one_and_update(
        query, {"$set": {"active": True, "updatedAt": now}, "$unset": dict.fromkeys(_DELETION, "")},
        return_document=ReturnDocument.AFTER)
    return found


def deletion_state(user_id: ObjectId) -> dict[str, Any] | None:
    """The account's role, status and deletion fields (None: no such user)."""
    found: dict[str, Any] | None = _users().find_one({"_id": user_id}, {"role": 1, "status": 1, "eraseAfter": 1,
                                                                        "closingOut": 1, "active": 1})
    return found


def closing_out(limit: int) -> list[dict[str, Any]]:
    """Accounts closed whose bookings are not all cancelled yet (a request that died midway)."""
    return list(_users().find({"status": DELETION_REQUESTED, "closingOut": True}, {"role": 1}).limit(limit))


def closed_out(user_id: ObjectId) -> None:
    _users().update_one({"_id": user_id, "status": DELETION_REQUESTED}, {"$unset": {"closingOut": ""}})


def due_erasures(status: str, before: datetime, limit: int) -> list[dict[str, Any]]:
    """Accounts in `status` (`deletion_requested`: grace over; `erasing`: an erase a crash left
    unfinished; `erased`: the tombstones whose kept records' retention is over) whose `eraseAfter`
    is at or before `before` (index `deletion`), whole (the erase reads what to remove)."""
    return list(_users().find({"status": status, "eraseAfter": {"$lte": before}})
                .sort([("eraseAfter", ASCENDING), ("_id", ASCENDING)]).limit(limit))


def start_erase(user_id: ObjectId, now: datetime) -> bool:
    """The erase begins (a restore is refused from now on): only while the deletion is still
    asked and its grace period over (False: restored meanwhile). An erase already begun is
    resumed by its caller without this write."""
    result = _users().update_one({"_id": user_id, "status": DELETION_REQUESTED, "eraseAfter": {"$lte": now}},
                                 {"$set": {"status": ERASING, "updatedAt": now}})
    return bool(result.matched_count == 1)


def count_active_admins() -> int:
    return int(_users().count_documents({"role": "admin", "active": {"$ne": False}}))


def tombstone(user: dict[str, Any], now: datetime) -> bool:
    """The erase's last write: every field but `TOMBSTONE_KEEPS` removed, the placeholder contact,
    `status: erased`; only while the erase is under way (`start_erase`). Idempotent: an erased
    account matches nothing."""
    gone = {k: "" for k in user if k not in TOMBSTONE_KEEPS}
    return bool(_users().update_one(
        {"_id": user["_id"], "status": ERASING},
        {"$set": {"status": ERASED, "erasedAt": now, "contact": erased_contact(user["_id"]), "contactType": "email",
                  "active": False, "updatedAt": now},
         **({"$unset": gone} if gone else {})}).modified_count == 1)


def retention_ended(user_id: ObjectId, now: datetime) -> bool:
    """The tombstone's kept records were purged: it no longer shows in `due_erasures("erased", ...)`."""
    return bool(_users().update_one({"_id": user_id, "status": ERASED},
                                    {"$set": {"status": "purged", "updatedAt": now}}).modified_count == 1)
