"""User management by the admin role: the user list, approval of doctors and pharmacists,
(de)activation. Every action is audited. (Creating an admin is the operator's command line,
`admin.py`, not a use case of this API.)"""

from __future__ import annotations

from typing import Any

from functions.auth.schemas import (
    ActiveIn,
    ApprovalIn,
    UsersQuery,
)
from functions.auth.sessions import end_sockets
from functions.auth.views import self_view
from functions.core import audit, clock, users
from functions.core.db import object_id
from functions.core.errors import Code, NotFound, Unprocessable
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
    """Approve or reject a doctor or pharmacist; takes effect on their next request."""
    oid = object_id(user_id, "User")
    now = clock.now()
    changes = {"approvalStatus": body.status, "approvalReason": body.reason, "reviewedBy": admin.id,
               "reviewedAt": now, "updatedAt": now}
    updated = users.update_account(oid, changes, condition={"role": {"$in": [DOCTOR, PHARMACIST]}})
    if updated is None:
        if users.find_account(oid) is None:
            raise NotFound.of("User")
        raise Unprocessable("Only doctor and pharmacist accounts need approval", code=Code.NOT_APPROVABLE)
    audit.record(admin.user, f"approval.{body.status}", "user", oid, body.reason, subject_id=oid)
    if body.status != APPROVED:  # a doctor's socket carries the approval it connected with
        end_sockets(oid)
    return self_view(updated)


def set_active(admin: Principal, user_id: str, body: ActiveIn) -> dict[str, Any]:
    """Deactivation ends every session at once (new session version) and blocks login."""
    oid = object_id(user_id, "User")
    if oid == admin.id:
        raise Unprocessable("You cannot change your own account's active flag", code=Code.SELF_DEACTIVATION,
                            errors=[{"field": "active", "message": "not allowed on your own account"}])
    extra = None if body.active else {"$inc": {"sessionVersion": 1}}
    updated = users.update_account(oid, {"active": body.active, "updatedAt": clock.now()}, extra)
    if updated is None:
        raise NotFound.of("User")
    action = "account.activated" if body.active else "account.deactivated"
    audit.record(admin.user, action, "user", oid, body.reason, subject_id=oid)
    if not body.active:
        end_sockets(oid)
    return self_view(updated)
