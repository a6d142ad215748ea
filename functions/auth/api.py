"""The auth domain's public seam: the only module other domains import from it.

Each function imports what it delegates to when it is called (a cheap import for callers, and
per-route IAM follows only what a route calls). Users themselves are `functions.core.users`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from functions.core.security import Principal

__all__ = ["add_history_entry", "check_password", "close_account", "code_hash", "end_sockets", "normalize_contact",
           "reopen_account", "self_view", "take_code_sms"]


def normalize_contact(raw: str, region: str) -> tuple[str, str]:
    """(contact, contactType) as sign-up stores it; ValueError if it is neither e-mail nor phone."""
    from functions.auth import contacts

    return contacts.normalize_contact(raw, region)


def add_history_entry(principal: Principal, analysis: str, url: str, kind: Literal["image", "video"]) -> dict[str, Any]:
    """Append an entry to the caller's own medical history (validated and audited as
    `POST /medical-history` does); the entry."""
    from functions.auth import records
    from functions.auth.schemas import MedicalHistoryIn

    entry, _ = records.add_history(principal, MedicalHistoryIn(analysis=analysis, url=url, type=kind))
    return entry


def code_hash(purpose: str, owner_id: Any, code: str) -> str:
    """How a one-time code sent to a contact is stored (an HMAC bound to its purpose and owner)."""
    from functions.auth import codes

    return codes.code_hash(purpose, owner_id, code)


def take_code_sms(number: str, source_ip: str, now: datetime) -> None:
    """Spend one code SMS to `number` (its budget, the client address's, the platform's), or
    RateLimited (429 TOO_MANY_CODES)."""
    from functions.auth import sms_codes

    sms_codes.take(number, source_ip, now)


def self_view(user: dict[str, Any]) -> dict[str, Any]:
    """A user as the user themself sees it (never a private field), as `GET /me` answers it."""
    from functions.auth import views

    return views.self_view(user)


def check_password(principal: Principal, password: str, source_ip: str) -> None:
    """The caller's current password, checked like a login attempt (422 WRONG_PASSWORD, 429)."""
    from functions.auth import closing

    closing.check_password(principal, password, source_ip)


def close_account(user_id: Any, now: datetime, erase_after: datetime) -> None:
    """The user's own deletion closes the account (deactivated, sessions ended, sockets marked, the
    erase due at `erase_after`); 409 DELETION_REQUESTED when one is under way already."""
    from functions.auth import closing

    closing.close(user_id, now, erase_after)


def reopen_account(user_id: Any, requested_at: datetime) -> None:
    """Compensation of `close_account`: reopens only the closing made at `requested_at`."""
    from functions.auth import closing

    closing.reopen(user_id, requested_at)


def end_sockets(user_id: Any) -> None:
    """Close every socket of the user (a failure is logged; the auth sweep closes them from the mark)."""
    from functions.auth import closing

    closing.end_account_sockets(user_id)
