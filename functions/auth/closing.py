"""A user closing their own account (`POST /me/delete`, issue 24 §3): the password checked like
a login attempt, the decision audited, then the account deactivated with every session ended
(new session version) and its sockets marked for closing, in one write, as an admin's
deactivation does (`user_management`); the sockets are closed after the write (the auth sweep
closes them from the mark if this request could not)."""

from __future__ import annotations

from datetime import datetime

from functions.auth.attempts import claim_attempt
from functions.auth.sessions import end_sockets
from functions.core import audit, clock, users
from functions.core.errors import Code, InvalidToken, Unprocessable
from functions.core.security import Principal, verify_password


def close_own(principal: Principal, password: str, source_ip: str, erase_after: datetime) -> None:
    """See the module's docstring. Failure-atomic like an admin decision: the audit entry first
    (an entry whose write then failed records an attempt), then the one state write (the same on
    a retry), then the sockets (best effort, the sweep's mark is in the write)."""
    now = clock.now()
    creds = users.find_credentials(principal.id)
    if creds is None:
        raise InvalidToken()
    attempt = claim_attempt(str(creds.get("contact") or principal.id), source_ip, now)
    if not verify_password(creds.get("passwordHash"), password):
        raise Unprocessable("The password is not correct", code=Code.WRONG_PASSWORD,
                            errors=[{"field": "password", "message": "is not correct"}])
    attempt.succeeded()
    audit.record(principal.user, "account.deletion-requested", "user", principal.id, subject_id=principal.id)
    changes = {"active": False, "deletion": {"requestedAt": now, "eraseAfter": erase_after},
               "closeSockets": True, "closeSocketsBefore": now, "updatedAt": now}
    if users.update_account(principal.id, changes, {"$inc": {"sessionVersion": 1}}) is None:
        raise InvalidToken()
    end_sockets(principal.id)
