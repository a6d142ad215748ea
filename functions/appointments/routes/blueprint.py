"""The appointments domain's one Blueprint, shared by its route modules, and the request's headers."""

from __future__ import annotations

from typing import Any

from functions.core.edge import Blueprint

bp = Blueprint("functions.appointments.routes")


def headers() -> Any:
    """The current request's headers, for `require_user`."""
    request = bp.current_request
    return request.headers if request is not None else {}
