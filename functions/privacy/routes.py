"""Routes of a user's own data (issue 24 §3): `GET /me/export`."""

from __future__ import annotations

from chalice.app import Response

from functions.core.edge import Blueprint
from functions.core.envelope import respond
from functions.core.openapi import describe
from functions.core.security import require_user
from functions.core.validation import parse_query
from functions.privacy import export as exports
from functions.privacy.schemas import ExportAnswer, ExportQuery

bp = Blueprint(__name__)


@bp.route("/me/export", methods=["GET"])
@describe(response=ExportAnswer)
def export() -> Response:
    """Everything the platform holds about the caller, as one JSON document (rate-limited)."""
    principal = require_user(bp.current_request.headers, approved=False)
    parse_query(bp.current_request, ExportQuery)
    return respond(**exports.export(principal))

