"""HTTP routes of a doctor's on-call switch (`/doctor/on-call`: whether the line rings them, and
`/doctor/on-call/confirm`: the code that proves the number it rings)."""

from __future__ import annotations

from chalice.app import Response

from functions.core.envelope import respond
from functions.core.errors import Code
from functions.core.openapi import describe
from functions.core.request_local import source_ip
from functions.core.security import DOCTOR, require_user
from functions.core.validation import parse_body
from functions.emergency import on_call
from functions.emergency.blueprint import bp, headers
from functions.emergency.schemas import OnCallAnswer, OnCallConfirmIn, OnCallIn


@bp.route("/doctor/on-call", methods=["GET"])
@describe(response=OnCallAnswer, errors=(Code.FORBIDDEN,))
def get_on_call() -> Response:
    """The calling doctor's on-call switch: whether the emergency line rings them, and at which number."""
    doctor = require_user(headers(), roles=(DOCTOR,))
    return respond(onCall=on_call.get_on_call(doctor))


@bp.route("/doctor/on-call", methods=["PUT"])
@describe(response=OnCallAnswer, errors=(Code.PHONE_REQUIRED, Code.INVALID_PHONE, Code.TOO_MANY_CODES,
          Code.RATE_LIMITED, Code.VALIDATION_FAILED))
def put_on_call() -> Response:
    """Go on or off call; a number not proven yet is texted a code and waits for it (`codeSent`)."""
    doctor = require_user(headers(), roles=(DOCTOR,))
    request = bp.current_request
    assert request is not None
    body = parse_body(request, OnCallIn)
    return respond(onCall=on_call.set_on_call(doctor, body, source_ip(request)))


@bp.route("/doctor/on-call/confirm", methods=["POST"])
@describe(response=OnCallAnswer, errors=(Code.INVALID_CODE, Code.VALIDATION_FAILED))
def confirm_on_call() -> Response:
    """The code texted to the number waiting: it becomes the number the emergency line rings."""
    doctor = require_user(headers(), roles=(DOCTOR,))
    body = parse_body(bp.current_request, OnCallConfirmIn)
    return respond(onCall=on_call.confirm(doctor, body))
