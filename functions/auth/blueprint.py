"""The auth domain's one Blueprint, shared by its route modules (`routes`), and the request's
headers."""

from __future__ import annotations

from functions.core.edge import Blueprint

bp = Blueprint("functions.auth.routes")
headers = bp.request_headers
