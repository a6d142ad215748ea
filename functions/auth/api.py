"""The auth domain's public seam: the only module other domains import from it.

Each function imports what it delegates to when it is called (a cheap import for callers, and
per-route IAM follows only what a route calls). Users themselves are `functions.core.users`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from functions.core.security import Principal

__all__ = ["add_history_entry", "code_hash", "normalize_contact", "self_view", "take_code_sms"]


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
