"""Accounts: sign-up (and the admin the operator CLI creates), the caller's profile and its
update, and the caller's access log.

Pure Python, no Chalice: each public function is one use case; the routes do the HTTP. Beside
it: `sessions` (login, logout, password change), `recovery` (contact verification, account
recovery), `contact_link` (verification by the link sent at sign-up), `directory` (public doctor
list), `records` (medical history, patient record), `user_management` (the admin role's use cases).
"""

from __future__ import annotations

from typing import Any

from functions.auth import contact_link, sms_codes
from functions.auth.contacts import contact_or_422, refuse_taken
from functions.auth.fees import fee_to_minor
from functions.auth.passwords import check_password_rules
from functions.auth.schemas import DOCTOR_FIELDS, RegisterIn, UpdateMeIn
from functions.auth.views import self_view
from functions.core import audit, clock, users
from functions.core.config import get_settings
from functions.core.errors import Code, Conflict, InvalidToken, Unprocessable
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
)

NO_AVATAR = {"public_id": "", "url": ""}


def public_role(body: RegisterIn) -> str:
    """The role a sign-up (or a claim, which signs up) asks for: admins are never self-made (D-07)."""
    if body.role == ADMIN:
        raise Unprocessable("Admin accounts cannot be created by sign-up", code=Code.ROLE_NOT_ALLOWED,
                            errors=[{"field": "role", "message": "must be patient, doctor or pharmacist"}])
    return PATIENT if body.role == "user" else body.role


def _new_account(body: RegisterIn, role: str) -> dict[str, Any]:
    user = account_doc(body, role)
    user["_id"] = users.insert_user(user)
    return user


def account_doc(body: RegisterIn, role: str) -> dict[str, Any]:
    """A new account as sign-up makes it (contact, password and profile rules checked), not yet written."""
    contact, contact_type = contact_or_422(body.contact)
    sms_codes.refuse_untextable(contact, contact_type)  # sign-up texts it a link: 400 if it cannot be
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
    return user


def _sign_up_avatar(body: RegisterIn) -> dict[str, str]:
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


def register(body: RegisterIn, source_ip: str) -> tuple[dict[str, Any], str]:
    """Public sign-up. Doctors and pharmacists wait for an admin; admins are never self-made (D-07).
    The one message sent is the contact's verification link (`contact_link`; by SMS, limited per
    source address: D-36, the reference texted arbitrary numbers a welcome). A contact another
    account holds is a 409; when that account never proved it, the 409 (CONTACT_CLAIMABLE) points
    to the claim (`claims`: issue 21 item 4, contact squatting)."""
    doc = account_doc(body, public_role(body))
    try:
        user = {**doc, "_id": users.insert_user(doc)}
    except Conflict as exc:
        if exc.code == Code.CONTACT_TAKEN:
            refuse_taken(str(doc["contact"]))
        raise
    contact_link.send(user, source_ip, clock.now())
    token, _ = issue_token(user)
    logger.info("Account registered", extra={"userId": str(user["_id"]), "role": user["role"]})
    return self_view(user), token


def create_admin(body: RegisterIn) -> dict[str, Any]:
    """Only reachable from the operator CLI (functions.auth.admin)."""
    return self_view(_new_account(body, ADMIN))


def profile(principal: Principal) -> dict[str, Any]:
    """The caller's own account, as the guard just read it."""
    return self_view(principal.user)


def update_me(principal: Principal, body: UpdateMeIn) -> dict[str, Any]:
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
