"""The pharmacy domain's one Blueprint, shared by its route modules, and the current request."""

from __future__ import annotations

from typing import Any

import chalice.app

from functions.core.edge import Blueprint

bp = Blueprint("functions.pharmacy.routes")


def request() -> chalice.app.Request:
    current = bp.current_request
    assert current is not None
    return current


def headers() -> Any:
    return request().headers
