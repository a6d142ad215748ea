"""HTTP routes of the prescriptions domain (thin handlers only).

`/prescription/verify/{code}` does not collide with `/prescription/{prescription_id}`: Chalice,
like API Gateway, prefers the literal segment `verify` to a variable. The PDF route is `binary`
(`core.edge`): it answers the file whatever the Accept header (the existing frontend downloads it
with `Accept: application/json`), on API Gateway too (infra/split_routes.py).
"""

from __future__ import annotations

from typing import Any

from chalice.app import Response

from functions.core.edge import Blueprint
from functions.core.envelope import JSON_HEADERS, respond, to_json
from functions.core.openapi import describe
from functions.core.pages import prefers_html
from functions.core.paging import pagination
from functions.core.request_local import source_ip
from functions.core.security import ADMIN, DOCTOR, PATIENT, PHARMACIST, require_user
from functions.core.validation import parse_body, parse_query
from functions.prescriptions import page, reading, verification, writing
from functions.prescriptions.schemas import ListQuery, PrescriptionIn, RevokeIn

bp = Blueprint(__name__)

READERS = (PATIENT, DOCTOR, ADMIN, PHARMACIST)


def _headers() -> Any:
    request = bp.current_request
    return request.headers if request is not None else {}


@bp.route("/prescription/new", methods=["POST"])
def create() -> Response:
    """Write a prescription for one of the doctor's confirmed or completed appointments."""
    doctor = require_user(_headers(), roles=(DOCTOR,))
    body = parse_body(bp.current_request, PrescriptionIn)
    return respond(201, prescription=writing.create(doctor, body))


@bp.route("/prescriptions", methods=["GET"])
def list_mine() -> Response:
    """The caller's prescriptions (a patient's own, or those a doctor wrote), newest first."""
    user = require_user(_headers(), roles=(PATIENT, DOCTOR))
    query = parse_query(bp.current_request, ListQuery)
    items, total = reading.list_mine(user, query)
    return respond(count=len(items), prescriptions=items, pagination=pagination(total, query.page, query.limit))


@bp.route("/prescription/verify/{code}", methods=["GET"], html_errors=True)
def verify(code: str) -> Response:
    """Check a printed prescription's verification code (public, rate-limited).

    Public check of a printed prescription's verification code (rate-limited per client):
    the page its QR code opens for a browser (`Accept` preferring `text/html`), JSON otherwise."""
    request = bp.current_request
    assert request is not None
    view = verification.verify(code, source_ip(request))
    if prefers_html(_headers().get("accept")):
        return page.verification(view)
    # Not `respond(**view)`: the answer has a `status` key, which is respond's HTTP status argument.
    return Response(body=to_json({"success": True, **view}), status_code=200, headers=dict(JSON_HEADERS))


@bp.route("/prescription/{prescription_id}", methods=["GET"])
def read_one(prescription_id: str) -> Response:
    """One prescription, for its patient, its author, admins and pharmacists who dispensed it."""
    user = require_user(_headers(), roles=READERS)
    return respond(prescription=reading.read_one(user, prescription_id))


@bp.route("/prescription/{prescription_id}/pdf", methods=["GET"], binary=True)
@describe(content_type="application/pdf")
def pdf(prescription_id: str) -> Response:
    """The prescription as a PDF download, whatever the `Accept` header."""
    user = require_user(_headers(), roles=READERS)
    filename, data = reading.pdf(user, prescription_id)
    return Response(body=data, status_code=200, headers={
        "Content-Type": "application/pdf",
        "Content-Disposition": f'attachment; filename="{filename}"',
    })


@bp.route("/prescription/{prescription_id}/revoke", methods=["PUT"])
def revoke(prescription_id: str) -> Response:
    """The author withdraws an active prescription; verification then answers `revoked`."""
    doctor = require_user(_headers(), roles=(DOCTOR,))
    body = parse_body(bp.current_request, RevokeIn)
    return respond(prescription=writing.revoke(doctor, prescription_id, body))
