"""A user's own account closing and its restore (issue 24 §3), the auth domain's part: the
password checked like a login attempt, the account closed by one conditional write (`users.
close_for_deletion`: deactivated, every session ended, sockets marked), reopened by its
compensation or by an admin's restore (audited) during the grace period.

The privacy domain runs the use case (`functions/privacy/deletion.py`) and calls these through
`auth.api`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bson import ObjectId

from functions.auth.attempts import claim_attempt
from functions.auth.sessions import end_sockets
from functions.auth.views import self_view
from functions.core import audit, clock, users
from functions.core.db import object_id
from functions.core.errors import Code, Conflict, Gone, InvalidToken, NotFound, Unprocessable
from functions.core.security import Principal, verify_password


def check_password(principal: Principal, password: str, source_ip: str) -> None:
    """The caller's current password, each check claimed like a login attempt (429 LOGIN_LOCKED
    over the budget); 422 WRONG_PASSWORD names the field."""
    creds = users.find_credentials(principal.id)
    if creds is None:
        raise InvalidToken()
    attempt = claim_attempt(str(creds.get("contact") or principal.id), source_ip, clock.now())
    if not verify_password(creds.get("passwordHash"), password):
        raise Unprocessable("The password is not correct", code=Code.WRONG_PASSWORD,
                            errors=[{"field": "password", "message": "is not correct"}])
    attempt.succeeded()


def close(user_id: ObjectId, now: datetime, erase_after: datetime) -> None:
    """Close the account (see `users.close_for_deletion`); 409 DELETION_REQUESTED when a deletion
    is already under way (a concurrent request closed it first)."""
    if not users.close_for_deletion(user_id, now, erase_after):
        raise Conflict("The deletion of this account is already under way", code=Code.DELETION_REQUESTED)


def reopen(user_id: ObjectId, requested_at: datetime) -> None:
    """Compensation of `close`: only the closing made at `requested_at` (idempotent)."""
    users.reopen(user_id, requested_at, clock.now())


def restore(admin: Principal, user_id: str, reason: str | None) -> dict[str, Any]:
    """POST /admin/user/:id/restore: the account active again during the grace period (the
    erase is off). Audited first, like every admin decision. What the closing cancelled
    (appointments, waitlist entries, orders) stays cancelled. 409 NOT_DELETING when no deletion
    is under way, 410 ACCOUNT_ERASED after the erase."""
    oid = object_id(user_id, "User")
    current = users.deletion_state(oid)
    if current is None:
        raise NotFound.of("User")
    if current.get("status") in (users.ERASING, users.ERASED, "purged"):
        raise Gone("This account was erased: nothing is left to restore", code=Code.ACCOUNT_ERASED)
    if current.get("status") != users.DELETION_REQUESTED:
        raise Conflict("This account's deletion was not asked for", code=Code.NOT_DELETING)
    audit.record(admin.user, "account.restored", "user", oid, reason, subject_id=oid)
    restored = users.reopen(oid, None, clock.now())
    if restored is None:  # erased (or restored) since the read above
        raise Conflict("The account changed meanwhile; look at it again", code=Code.NOT_DELETING)
    return self_view(restored)


def end_account_sockets(user_id: ObjectId) -> None:
    """Close the closed account's sockets (the auth sweep closes what this cannot, from the mark)."""
    end_sockets(user_id)
