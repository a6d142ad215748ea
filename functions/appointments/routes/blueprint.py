"""The appointments domain's one Blueprint, shared by its route modules, and the request's headers."""

from __future__ import annotations

from functions.core.edge import Blueprint

bp = Blueprint("functions.appointments.routes")
headers = bp.request_headers
