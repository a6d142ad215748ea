"""The pharmacy domain's one Blueprint, shared by its route modules, and request helpers."""

from __future__ import annotations

from typing import Any

import chalice.app

from functions.core.http import Blueprint
from functions.pharmacy.forms import FormBody, parse_form

bp = Blueprint("functions.pharmacy.routes")


def request() -> chalice.app.Request:
    current = bp.current_request
    assert current is not None
    return current


def headers() -> Any:
    return request().headers


def form() -> FormBody:
    """The body of a route that accepts JSON, multipart or urlencoded (see `forms`); the
    same-site check of cookie-authenticated writes already ran in `core.http`."""
    current = request()
    return parse_form(current.headers, current.raw_body)
