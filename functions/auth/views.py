"""A user as the user themself (or an admin) sees it: never a private field (`core.users`)."""

from __future__ import annotations

from typing import Any

from functions.auth.fees import with_api_fee
from functions.core.directory import is_available
from functions.core.security import DOCTOR
from functions.core.users import PRIVATE_USER_FIELDS


def self_view(user: dict[str, Any]) -> dict[str, Any]:
    """A user as the user themself (or an admin) sees it; for a doctor `availability` is the
    frontend's boolean (their schedule is at GET /doctor/availability)."""
    view = {k: v for k, v in user.items() if k not in PRIVATE_USER_FIELDS}
    view["contactVerified"] = bool(user.get("contactVerified"))
    if user.get("role") == DOCTOR:
        view["availability"] = is_available(user)
        view.pop("availablity", None)
        with_api_fee(view, user)
    return view
