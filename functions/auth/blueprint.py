"""The auth domain's one Blueprint, shared by its route modules (`routes`), and the request's
headers."""

from __future__ import annotations

from typing import Any

from functions.core.edge import Blueprint

bp = Blueprint("functions.auth.routes")


def headers() -> Any:
    """The current request's headers, for `require_user` / `optional_user`."""
    return bp.current_request.headers
