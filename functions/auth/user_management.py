"""User management by the admin role: the user list, approval of doctors and pharmacists,
(de)activation, a user's contact. Every action is audited. (Creating an admin is the operator's command line,
`admin.py`, not a use case of this API.)"""

from __future__ import annotations

from typing import Any

from bson import ObjectId

from functions.auth import sms_codes
from functions.auth.contacts import contact_or_422
from functions.auth.schemas import (
    ActiveIn,
    ApprovalIn,
    ContactChangeIn,
    UsersQuery,
)
from functions.auth.sessions import end_sockets
from functions.auth.views import self_view
from functions.core import audit, clock, users
from functions.core.db import object_id
from functions.core.errors import Code, Conflict, NotFound, Unprocessable
from functions.core.security import APPROVED, DOCTOR, PHARMACIST, Principal


def list_users(admin: Principal, query: UsersQuery) -> tuple[list[dict[str, Any]], int]:
    filters = {k: v for k, v in (("role", query.role), ("approvalStatus", query.approvalStatus)) if v}
    items, total = users.list_accounts(filters, query.skip, query.limit)
    audit.record(admin.user, "list", "user", None, reason=",".join(f"{k}={v}" for k, v in filters.items()) or None)
    return [self_view(u) for u in items], total


def get_user(admin: Principal, user_id: str) -> dict[str, Any]:
    oid = object_id(user_id, "User")
    user = users.find_account(oid)
    if user is None:
        raise NotFound.of("User")
    audit.record(admin.user, "read", "user", oid, subject_id=oid)
    return self_view(user)


def set_approval(admin: Principal, user_id: str, body: ApprovalIn) -> dict[str, Any]:
    """Approve or reject a doctor or pharmacist; takes effect on their next request. A rejection
    also closes their sockets (a doctor's socket carries the approval it connected with)."""
    oid = object_id(user_id, "User")
    current = users.find_account(oid)
    if current is None:
        raise NotFound.of("User")
    if current.get("role") not in (DOCTOR, PHARMACIST):
        raise Unprocessable("Only doctor and pharmacist accounts need approval", code=Code.NOT_APPROVABLE)
    now = clock.now()
    changes = {"approvalStatus": body.status, "approvalReason": body.reason, "reviewedBy": admin.id,
               "reviewedAt": now, "updatedAt": now}
    return _decide(admin, oid, f"approval.{body.status}", body.reason, changes, None,
                   close_sockets=body.status != APPROVED, condition={"role": {"$in": [DOCTOR, PHARMACIST]}})


def set_active(admin: Principal, user_id: str, body: ActiveIn) -> dict[str, Any]:
    """Deactivation ends every session at once (new session version) and blocks login."""
    oid = object_id(user_id, "User")
    if oid == admin.id:
        raise Unprocessable("You cannot change your own account's active flag", code=Code.SELF_DEACTIVATION,
                            errors=[{"field": "active", "message": "not allowed on your own account"}])
    if users.find_account(oid) is None:
        raise NotFound.of("User")
    action = "account.activated" if body.active else "account.deactivated"
    extra = None if body.active else {"$inc": {"sessionVersion": 1}}
    return _decide(admin, oid, action, body.reason, {"active": body.active, "updatedAt": clock.now()}, extra,
                   close_sockets=not body.active)


def set_contact(admin: Principal, user_id: str, body: ContactChangeIn) -> dict[str, Any]:
    """Change a user's contact (issue 21 item 4: no route did, so a squatted or lost contact stayed
    for ever): unverified unless `verified` (the admin checked it), codes sent to the old one used
    up; 409 CONTACT_TAKEN when another account holds it (the unique index decides, also under a
    race). Audited first, like every admin decision (an entry whose write then failed records an
    attempt); the reason is kept, the contacts are not (the user's own record has them)."""
    oid = object_id(user_id, "User")
    contact, contact_type = contact_or_422(body.contact)
    sms_codes.refuse_untextable(contact, contact_type)
    current = users.find_account(oid)
    if current is None:
        raise NotFound.of("User")
    holder = users.contact_holder(contact)
    if holder is not None and holder["_id"] != oid:
        raise Conflict("Another account holds this contact", code=Code.CONTACT_TAKEN,
                       errors=[{"field": "contact", "message": "is held by another account"}])
    now = clock.now()
    audit.record(admin.user, "contact.changed", "user", oid, body.reason, subject_id=oid)
    updated = users.change_contact(oid, {"contact": contact, "contactType": contact_type,
                                         "contactVerified": body.verified,
                                         "contactVerifiedAt": now if body.verified else None, "updatedAt": now})
    if updated is None:
        raise NotFound.of("User")
    return self_view(updated)


def _decide(admin: Principal, oid: ObjectId, action: str, reason: str | None, changes: dict[str, Any],
            extra: dict[str, Any] | None, *, close_sockets: bool,
            condition: dict[str, Any] | None = None) -> dict[str, Any]:
    """An admin decision on a user, failure-atomic in this order (issue 19): the audit entry
    first, then the state, then the sockets.

    - The audit entry comes first, so no failure can leave an applied change without its entry
      (the trail is append-only: an entry whose state write then failed records an attempt; the
      caller saw an error and the decision can be sent again).
    - The state is one single-document write that applies the same on a retry (no undo: a write
      whose reply was lost has applied, and the admin's retry converges on it). A decision that
      takes the sockets away marks the user `closeSockets` in that same write.
    - The sockets are closed after the block, not needed for the answer: a failure there is
      logged (`sessions.end_sockets`) and the auth sweep closes them from the mark.
    """
    audit.record(admin.user, action, "user", oid, reason, subject_id=oid)
    if close_sockets:
        changes = {**changes, "closeSockets": True, "closeSocketsBefore": changes["updatedAt"]}
    updated = users.update_account(oid, changes, extra, condition)
    if updated is None:  # deleted (or its role changed) since the read above
        raise NotFound.of("User")
    if close_sockets:
        end_sockets(oid)
    return self_view(updated)
