"""Pharmacies: registration, the owner's pharmacy, the directory, verification.

Pharmacies: registration, the owner's view and settings, the public directory, admin
verification and the dev-only quick setup.

Nobody's role changes by registering (D-15: registering made anyone a pharmacist, demoting
doctors and admins, and quick-setup self-verified). A pharmacy is public and orderable only while
verified by an admin and open (`status.is_listed`); that is the `listed` flag, kept on
the pharmacy and on each of its medicines (D-16: verification was cosmetic).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from bson import ObjectId

from functions.core import audit, clock, users
from functions.core.bodies import UploadedFile
from functions.core.config import get_settings
from functions.core.db import object_id
from functions.core.errors import Code, Conflict, Forbidden, NotFound, Unprocessable
from functions.core.money import to_major
from functions.core.security import ADMIN, Principal
from functions.media import api as media
from functions.pharmacy import notifications
from functions.pharmacy.images import upload_image
from functions.pharmacy.schemas import (
    AdminPharmacyQuery,
    PharmacyIn,
    PharmacyListQuery,
    PharmacyStatusIn,
    PharmacyUpdateIn,
    VerificationDocuments,
)
from functions.pharmacy.status import (
    ACTIVE,
    AWAITING_VERIFICATION,
    INACTIVE,
    VERIFICATION_STATUSES,
    VERIFIED,
    is_listed,
)
from functions.pharmacy.stores import medicines, pharmacies

# Fields never sent to anyone (internal keys), and those the public does not see.
INTERNAL = ("licenseKey", "ratingSum")
LICENCE = "pharmacy-license"  # the media purpose of the licence documents
AVATAR = "pharmacy-picture"  # the media purpose of a pharmacy's picture (never the owner's own avatar)
MONEY = ("deliveryCharges", "freeDeliveryAbove")  # minor units stored, major units shown
NOT_PUBLIC = ("licenseNumber", "verificationDocuments", "monthlyRevenue", "totalOrders", "totalMedicines",
              "verificationReason", "owner", "listed", "verifiedBy")  # verifiedBy: an admin's id (issue 21)


def license_key(number: str) -> str:
    """One spelling per licence: case, spaces and separators do not make a new licence."""
    return re.sub(r"[^A-Z0-9]", "", number.upper())


def rating_of(doc: Mapping[str, Any]) -> float:
    reviews = int(doc.get("totalReviews") or 0)
    return round(float(doc.get("ratingSum") or 0) / reviews, 1) if reviews else 0.0


def to_owner_api(doc: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in doc.items() if k not in INTERNAL}
    out["rating"] = rating_of(doc)
    currency = get_settings().default_currency  # pharmacy records are in the default currency
    out.update({k: to_major(doc[k], currency) for k in MONEY if doc.get(k) is not None})
    return out


def to_public_api(doc: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in to_owner_api(doc).items() if k not in NOT_PUBLIC}
    return out


# ---------------------------------------------------------------- the owner's pharmacy


def _no_pharmacy() -> NotFound:
    """The 404 of a pharmacist who has not registered a pharmacy (the UI offers registration)."""
    return NotFound("No pharmacy found for this user", code=Code.NO_PHARMACY)


def owned(owner: Principal) -> dict[str, Any]:
    doc = pharmacies.by_owner(owner.id)
    if doc is None:
        raise _no_pharmacy()
    return doc


def owned_verified(owner: Principal) -> dict[str, Any]:
    """The caller's pharmacy, which must be verified (inventory and orders need it)."""
    doc = owned(owner)
    if doc.get("verificationStatus") != VERIFIED:
        raise Forbidden("Your pharmacy is not verified yet", code=Code.PHARMACY_NOT_VERIFIED)
    return doc


def new_pharmacy(owner_id: ObjectId, data: PharmacyIn, *, verified: bool = False) -> dict[str, Any]:
    now = clock.now()
    status = VERIFIED if verified else AWAITING_VERIFICATION
    doc: dict[str, Any] = {
        "_id": ObjectId(),
        "owner": owner_id,
        **data.model_dump(mode="python", exclude_none=True),
        "licenseKey": license_key(data.licenseNumber),
        "verificationStatus": status,
        "isVerified": verified,
        "status": ACTIVE,
        "listed": is_listed(status, ACTIVE),
        "ratingSum": 0,
        "totalReviews": 0,
        "totalMedicines": 0,
        "totalOrders": 0,
        "createdAt": now,
        "updatedAt": now,
    }
    return doc


def _insert(doc: dict[str, Any], caller: Principal) -> dict[str, Any]:
    """Insert the new pharmacy. A licence held by another pharmacy is named only to an admin
    (issue 21): anyone else gets a conflict that does not say whether a licence is registered,
    and the clash is audited, so an admin can tell the real holder from a squatter."""
    clash = pharmacies.insert(doc)
    if clash == "owner":  # the caller's own pharmacy: no one else's secret
        raise Conflict("You have already registered a pharmacy", code=Code.PHARMACY_EXISTS)
    if clash == "license":
        if caller.role == ADMIN:
            raise Conflict("Pharmacy with this license number already exists", code=Code.LICENSE_TAKEN)
        audit.record(caller.user, "registration_refused", "pharmacy", doc["_id"], reason="licence clash")
        raise Conflict("This pharmacy cannot be registered with these details: contact support to have your "
                       "licence reviewed", code=Code.REGISTRATION_REFUSED)
    return doc


def _documents(owner: Principal, given: VerificationDocuments | None) -> dict[str, dict[str, str]] | None:
    """The licence documents named, each a recorded `pharmacy-license` upload of the caller
    (one read; 422 ASSET_INVALID naming the document otherwise), with Cloudinary's urls."""
    if given is None:
        return None
    named = {key: ref for key, ref in given.model_dump(exclude_none=True).items()}
    try:
        checked = media.require_assets(owner.id, LICENCE, list(named.values()), field="verificationDocuments")
    except Unprocessable as exc:
        ids = list(dict.fromkeys(ref["public_id"] for ref in named.values()))
        bad = {ids[int(e["field"].split(".")[1])] for e in exc.errors}
        raise Unprocessable(exc.message, code=Code.ASSET_INVALID,
                            errors=[{"field": f"verificationDocuments.{key}.public_id", "message": "Unknown upload"}
                                    for key, ref in named.items() if ref["public_id"] in bad]) from None
    by_id = {ref["public_id"]: ref for ref in checked}
    return {key: by_id[ref["public_id"]] for key, ref in named.items()}


def register(owner: Principal, data: PharmacyIn, avatar: UploadedFile | None) -> dict[str, Any]:
    if pharmacies.by_owner(owner.id) is not None:  # fast answer; the unique index decides races
        raise Conflict("You have already registered a pharmacy", code=Code.PHARMACY_EXISTS)
    doc = new_pharmacy(owner.id, data)
    documents = _documents(owner, data.verificationDocuments)
    if documents is not None:
        doc["verificationDocuments"] = documents
    if avatar is not None:  # the frontend's file part, uploaded here and recorded as the owner's avatar
        stored = upload_image(avatar, owner.id, AVATAR)
        if stored is not None:
            doc["avatar"] = stored
    try:
        return to_owner_api(_insert(doc, owner))
    except Conflict:
        media.destroy_replaced(owner.id, [doc["avatar"]] if "avatar" in doc else [])  # no orphan (D-35)
        raise


def my(owner: Principal) -> dict[str, Any]:
    return to_owner_api(owned(owner))


def update_my(owner: Principal, data: PharmacyUpdateIn, avatar: UploadedFile | None) -> dict[str, Any]:
    """Allow-listed fields only (`PharmacyUpdateIn`; the route drops echoed server-managed fields
    and the model refuses anything else unknown)."""
    current = owned(owner)
    changes = data.model_dump(mode="python", exclude_none=True)
    documents = _documents(owner, data.verificationDocuments)
    if documents is not None:
        changes["verificationDocuments"] = {**(current.get("verificationDocuments") or {}), **documents}
    if avatar is not None:
        stored = upload_image(avatar, owner.id, AVATAR)
        if stored is not None:
            changes["avatar"] = stored
    if "status" in changes:
        changes["listed"] = is_listed(str(current.get("verificationStatus")), changes["status"])
    changes["updatedAt"] = clock.now()
    updated = pharmacies.update_owned(owner.id, changes)
    if updated is None:
        raise _no_pharmacy()
    if "listed" in changes and changes["listed"] != current.get("listed"):
        medicines.relist_pharmacy(updated["_id"], bool(changes["listed"]))
    if "avatar" in changes and current.get("avatar"):  # the replaced avatar leaves Cloudinary (best effort)
        media.destroy_replaced(owner.id, [current["avatar"]], [changes["avatar"]])
    if documents:  # replaced licence documents leave Cloudinary (best effort)
        media.destroy_replaced(owner.id, (current.get("verificationDocuments") or {}).values(),
                               list(changes["verificationDocuments"].values()))
    return to_owner_api(updated)


def quick_setup(owner: Principal) -> tuple[dict[str, Any], bool]:
    """Dev stage only (the route answers 404 elsewhere): a verified demo pharmacy for the
    calling pharmacist. Returns (pharmacy, created)."""
    if get_settings().stage != "dev":
        raise NotFound()
    existing = pharmacies.by_owner(owner.id)
    if existing is not None:
        return to_owner_api(existing), False
    doc = new_pharmacy(owner.id, demo_pharmacy(str(owner.user.get("name") or "Demo"), str(owner.id)), verified=True)
    doc["description"] = "Test pharmacy for development"
    return to_owner_api(_insert(doc, owner)), True


def demo_pharmacy(owner_name: str, owner_id: str) -> PharmacyIn:
    return PharmacyIn.model_validate({
        "name": f"{owner_name[:80]}'s Pharmacy",
        "description": "Demo pharmacy",
        "address": {"street": "123 Test Street", "city": "Test City", "state": "Test State", "pincode": "123456"},
        "contactInfo": {"phone": "+911234567890", "email": "pharmacy@example.com"},
        "licenseNumber": f"TEST-{owner_id[-12:]}",
        "establishedYear": clock.now().year,
        "deliveryCharges": 50,  # rupees (stored as 5000 paise): what the frontend's checkout shows
        "freeDeliveryAbove": 500,
    })


# ---------------------------------------------------------------- the public directory


def public_list(query: PharmacyListQuery) -> tuple[list[dict[str, Any]], int]:
    filters: dict[str, Any] = {"listed": True}
    if query.city:
        # D-19 (user input went unescaped into a regex: ReDoS and 500s): escaped, case-insensitive.
        filters["address.city"] = {"$regex": re.escape(query.city), "$options": "i"}
    if query.pincode:
        filters["address.pincode"] = query.pincode
    items, total = pharmacies.list_page(filters, query.skip, query.limit)
    return [to_public_api(doc) for doc in items], total


def public_view(pharmacy_id: str) -> dict[str, Any]:
    doc = pharmacies.get_listed(object_id(pharmacy_id, "Pharmacy"))
    if doc is None:
        raise NotFound.of("Pharmacy")
    return to_public_api(doc)


# ---------------------------------------------------------------- administration


def admin_list(query: AdminPharmacyQuery) -> tuple[list[dict[str, Any]], int]:
    """Newest first; without a status filter one indexed read per status, merged (every query
    keeps a top-level equality)."""
    statuses = [query.status] if query.status and query.status != "all" else list(VERIFICATION_STATUSES)
    items: list[dict[str, Any]] = []
    total = 0
    for status in statuses:
        part, count = pharmacies.list_page({"verificationStatus": status}, 0, query.skip + query.limit)
        items.extend(part)
        total += count
    items = sorted(items, key=lambda d: d["_id"], reverse=True)[query.skip:query.skip + query.limit]
    owners = users.contacts([doc["owner"] for doc in items])
    out = []
    for doc in items:
        api = to_owner_api(doc)
        owner = owners.get(doc["owner"])
        # The admin page prints `owner` as text: the id, with the name beside it (an object there
        # unmounted the whole page).
        api["owner"] = str(doc["owner"])
        api["ownerName"] = owner.get("name") if owner else None
        out.append(api)
    return out, total


def set_verification(admin: Principal, pharmacy_id: str, data: PharmacyStatusIn) -> dict[str, Any]:
    """`isVerified` follows `verificationStatus` in the same write (D-44: they drifted apart);
    the medicines' `listed` flag follows; the owner is told."""
    target = object_id(pharmacy_id, "Pharmacy")
    current = pharmacies.get(target)
    if current is None:
        raise NotFound.of("Pharmacy")
    listed = is_listed(data.status, str(current.get("status", ACTIVE)))
    updated = pharmacies.set_status(target, {
        "verificationStatus": data.status, "isVerified": data.status == VERIFIED, "listed": listed,
        "verificationReason": data.reason, "verifiedBy": admin.id, "updatedAt": clock.now()})
    if updated is None:
        raise NotFound.of("Pharmacy")
    medicines.relist_pharmacy(target, listed)
    text = f"Your pharmacy {updated['name']} is now {data.status}."
    if data.reason:
        text += f" Reason: {data.reason}"
    notifications.tell(updated["owner"], "Pharmacy verification", text,
                       {"type": "pharmacy_status", "pharmacyId": str(target), "status": data.status},
                       kind="pharmacy_status", ref=target)
    return to_owner_api(updated)


def close_for_owner(owner_id: ObjectId) -> bool:
    """The pharmacist's account closed (issue 24 §3): their shop is closed as the owner closes it
    (`status: inactive`, unlisted) and its medicines leave the catalogue, so nobody orders from a
    pharmacy no one runs. Idempotent (the medicines follow the flag on every run, so a run cut
    short between the two writes is finished by the next). False when they own no pharmacy."""
    closed = pharmacies.update_owned(owner_id, {"status": INACTIVE, "listed": False, "updatedAt": clock.now()})
    if closed is None:
        return False
    medicines.relist_pharmacy(closed["_id"], False)
    return True

