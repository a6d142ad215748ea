"""HTTP routes of the prescriptions domain (thin handlers only).

`/prescription/verify/{code}` does not collide with `/prescription/{prescription_id}`: Chalice,
like API Gateway, prefers the literal segment `verify` to a variable. The PDF route is `binary`
(`core.edge`): it answers the file whatever the Accept header (the existing frontend downloads it
with `Accept: application/json`), on API Gateway too (infra/split_routes.py).
"""

from __future__ import annotations

from chalice.app import Response

from functions.core.edge import Blueprint
from functions.core.envelope import JSON_HEADERS, respond, to_json
from functions.core.errors import Code
from functions.core.openapi import describe
from functions.core.pages import prefers_html
from functions.core.paging import pagination
from functions.core.request_local import source_ip
from functions.core.security import ADMIN, DOCTOR, PATIENT, PHARMACIST, require_user
from functions.core.validation import parse_body, parse_query
from functions.prescriptions import examples, page, reading, verification, writing
from functions.prescriptions.schemas import (
    ListQuery,
    PrescriptionAnswer,
    PrescriptionIn,
    PrescriptionListAnswer,
    RevokeIn,
    VerificationAnswer,
    WrittenAnswer,
)

bp = Blueprint(__name__)

READERS = (PATIENT, DOCTOR, ADMIN, PHARMACIST)
_headers = bp.request_headers


@bp.route("/prescription/new", methods=["POST"])
@describe(response=WrittenAnswer, status=201, errors=(Code.NOT_FOUND, Code.APPOINTMENT_MISMATCH,
          Code.APPOINTMENT_NOT_ELIGIBLE, Code.VALIDATION_FAILED), examples=examples.WRITE)
def create() -> Response:
    """Write a prescription for one of the doctor's confirmed or completed appointments."""
    doctor = require_user(_headers(), roles=(DOCTOR,))
    body = parse_body(bp.current_request, PrescriptionIn)
    return respond(201, prescription=writing.create(doctor, body))


@bp.route("/prescriptions", methods=["GET"])
@describe(response=PrescriptionListAnswer, errors=(Code.VALIDATION_FAILED,))
def list_mine() -> Response:
    """The caller's prescriptions (a patient's own, or those a doctor wrote), newest first."""
    user = require_user(_headers(), roles=(PATIENT, DOCTOR))
    query = parse_query(bp.current_request, ListQuery)
    items, total = reading.list_mine(user, query)
    return respond(count=len(items), prescriptions=items, pagination=pagination(total, query.page, query.limit))


@bp.route("/prescription/verify/{code}", methods=["GET"], html_errors=True)
@describe(response=VerificationAnswer, errors=(Code.NOT_FOUND, Code.RATE_LIMITED))
def verify(code: str) -> Response:
    """Public check of a printed prescription's verification code, rate-limited per client.

    The page its QR code opens for a browser (`Accept` preferring `text/html`), JSON otherwise;
    an unknown code is a 404 with `valid: false`."""
    request = bp.current_request
    assert request is not None
    view = verification.verify(code, source_ip(request))
    if prefers_html(_headers().get("accept")):
        return page.verification(view)
    # Not `respond(**view)`: the answer has a `status` key, which is respond's HTTP status argument.
    return Response(body=to_json({"success": True, **view}), status_code=200, headers=dict(JSON_HEADERS))


@bp.route("/prescription/{prescription_id}", methods=["GET"])
@describe(response=PrescriptionAnswer, errors=(Code.NOT_FOUND,))
def read_one(prescription_id: str) -> Response:
    """One prescription, for its patient, its author, admins and pharmacists who dispensed it."""
    user = require_user(_headers(), roles=READERS)
    return respond(prescription=reading.read_one(user, prescription_id))


@bp.route("/prescription/{prescription_id}/pdf", methods=["GET"], binary=True)
@describe(content_type="application/pdf", errors=(Code.NOT_FOUND, Code.PDF_FONTS_MISSING))
def pdf(prescription_id: str) -> Response:
    """The prescription as a PDF download, whatever the `Accept` header."""
    user = require_user(_headers(), roles=READERS)
    filename, data = reading.pdf(user, prescription_id)
    return Response(body=data, status_code=200, headers={
        "Content-Type": "application/pdf",
        "Content-Disposition": f'attachment; filename="{filename}"',
    })


@bp.route("/prescription/{prescription_id}/revoke", methods=["PUT"])
@describe(response=PrescriptionAnswer, errors=(Code.NOT_FOUND, Code.PRESCRIPTION_NOT_ACTIVE, Code.VALIDATION_FAILED))
def revoke(prescription_id: str) -> Response:
    """The prescribing doctor withdraws an active prescription; verification then answers `revoked`."""
    doctor = require_user(_headers(), roles=(DOCTOR,))
    body = parse_body(bp.current_request, RevokeIn)
    return respond(prescription=writing.revoke(doctor, prescription_id, body))
