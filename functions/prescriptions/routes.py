"""HTTP routes of the prescriptions domain (thin handlers only).

`/prescription/verify/{code}` does not collide with `/prescription/{prescription_id}`: Chalice,
like API Gateway, prefers the literal segment `verify` to a variable. The PDF route is `binary`
(core.http): it answers the file whatever the Accept header (the existing frontend downloads it
with `Accept: application/json`), on API Gateway too (infra/split_routes.py).
"""

from __future__ import annotations

from typing import Any

from chalice.app import Response

from functions.core.http import JSON_HEADERS, Blueprint, pagination, parse_body, parse_query, respond, to_json
from functions.core.openapi import describe
from functions.core.pages import prefers_html
from functions.core.security import ADMIN, DOCTOR, PATIENT, PHARMACIST, require_user
from functions.prescriptions import page, service
from functions.prescriptions.schemas import ListQuery, PrescriptionIn, RevokeIn

bp = Blueprint(__name__)

READERS = (PATIENT, DOCTOR, ADMIN, PHARMACIST)


def _headers() -> Any:
    request = bp.current_request
    return request.headers if request is not None else {}


def _client_ip() -> str:
    """API Gateway's view of the caller (never a client-supplied X-Forwarded-For)."""
    request = bp.current_request
    context = (request.context if request is not None else None) or {}
    return str((context.get("identity") or {}).get("sourceIp") or "unknown")


@bp.route("/prescription/new", methods=["POST"])
def create() -> Response:
    """Write a prescription for one of the doctor's confirmed or completed appointments."""
    doctor = require_user(_headers(), roles=(DOCTOR,))
    body = parse_body(bp.current_request, PrescriptionIn)
    return respond(201, prescription=service.create(doctor, body))


@bp.route("/prescriptions", methods=["GET"])
def list_mine() -> Response:
    """The caller's prescriptions (a patient's own, or those a doctor wrote), newest first."""
    user = require_user(_headers(), roles=(PATIENT, DOCTOR))
    query = parse_query(bp.current_request, ListQuery)
    items, total = service.list_mine(user, query)
    return respond(count=len(items), prescriptions=items, pagination=pagination(total, query.page, query.limit))


@bp.route("/prescription/verify/{code}", methods=["GET"], html_errors=True)
def verify(code: str) -> Response:
    """Public check of a printed prescription's verification code (rate-limited per client):
    the page its QR code opens for a browser (`Accept` preferring `text/html`), JSON otherwise."""
    view = service.verify(code, _client_ip())
    if prefers_html(_headers().get("accept")):
        return page.verification(view)
    # Not `respond(**view)`: the answer has a `status` key, which is respond's HTTP status argument.
    return Response(body=to_json({"success": True, **view}), status_code=200, headers=dict(JSON_HEADERS))


@bp.route("/prescription/{prescription_id}", methods=["GET"])
def read_one(prescription_id: str) -> Response:
    """One prescription, for its patient, its author, admins and pharmacists who dispensed it."""
    user = require_user(_headers(), roles=READERS)
    return respond(prescription=service.read_one(user, prescription_id))


@bp.route("/prescription/{prescription_id}/pdf", methods=["GET"], binary=True)
@describe(content_type="application/pdf")
def pdf(prescription_id: str) -> Response:
    """The prescription as a PDF download, whatever the `Accept` header."""
    user = require_user(_headers(), roles=READERS)
    filename, data = service.pdf(user, prescription_id)
    return Response(body=data, status_code=200, headers={
        "Content-Type": "application/pdf",
        "Content-Disposition": f'attachment; filename="{filename}"',
    })


@bp.route("/prescription/{prescription_id}/revoke", methods=["PUT"])
def revoke(prescription_id: str) -> Response:
    """The author withdraws an active prescription; verification then answers `revoked`."""
    doctor = require_user(_headers(), roles=(DOCTOR,))
    body = parse_body(bp.current_request, RevokeIn)
    return respond(prescription=service.revoke(doctor, prescription_id, body))
