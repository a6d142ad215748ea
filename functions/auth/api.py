"""The auth domain's public seam: the only module other domains import from it.

Each function imports what it delegates to when it is called (a cheap import for callers, and
per-route IAM follows only what a route calls). Users themselves are `functions.core.users`.
"""

from __future__ import annotations

from typing import Any, Literal

from functions.core.security import Principal

__all__ = ["add_history_entry", "normalize_contact"]


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
