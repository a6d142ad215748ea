"""Routes of a user's own data (issue 24 §3): `GET /me/export`, `POST /me/delete`.

The export answers JSON, or a zip with `?format=zip`: the route is `binary` (core.edge), so the zip
reaches the existing frontend's `Accept: application/json` as a file, and `json_as_text`, so its JSON
answers (the export itself, its errors) stay plain JSON for every client."""

from __future__ import annotations

from chalice.app import Response

from functions.core.bodies import FORM, JSON, MULTIPART
from functions.core.edge import Blueprint
from functions.core.envelope import respond
from functions.core.errors import Code
from functions.core.openapi import describe
from functions.core.request_local import source_ip
from functions.core.security import require_user
from functions.core.validation import parse_body, parse_query
from functions.privacy import deletion
from functions.privacy import export as exports
from functions.privacy.schemas import DeleteAnswer, DeleteIn, ExportAnswer, ExportQuery

bp = Blueprint(__name__)


@bp.route("/me/export", methods=["GET"], binary=True, json_as_text=True)
@describe(response=ExportAnswer, content_type=("application/json", "application/zip"),
          errors=(Code.EXPORT_TOO_LARGE, Code.PDF_FONTS_MISSING))
def export() -> Response:
    """Everything the platform holds about the caller, as one JSON document or a zip with the prescriptions' PDFs."""
    principal = require_user(bp.current_request.headers, approved=False)
    query = parse_query(bp.current_request, ExportQuery)
    if query.format == "zip":
        filename, data = exports.export_zip(principal)
        return Response(body=data, status_code=200, headers={
            "Content-Type": "application/zip", "Content-Disposition": f'attachment; filename="{filename}"'})
    return respond(**exports.export(principal))


@bp.route("/me/delete", methods=["POST"], body_types=(JSON, FORM, MULTIPART))  # a settings form may post either
@describe(response=DeleteAnswer, status=202, errors=(Code.WRONG_PASSWORD, Code.LOGIN_LOCKED,
                                                     Code.ACCOUNT_HAS_OBLIGATIONS, Code.LAST_ADMIN,
                                                     Code.DELETION_REQUESTED))
def delete() -> Response:
    """Delete the caller's own account (password confirmed): closed at once, erased after the grace period."""
    request = bp.current_request
    principal = require_user(request.headers, approved=False)
    return respond(202, **deletion.delete_own(principal, parse_body(request, DeleteIn), source_ip(request)))
