"""HTTP routes of a doctor's on-call switch (`/doctor/on-call`: whether the line rings them, and
`/doctor/on-call/confirm`: the code that proves the number it rings)."""

from __future__ import annotations

from chalice.app import Response

from functions.core.envelope import respond
from functions.core.request_local import source_ip
from functions.core.security import DOCTOR, require_user
from functions.core.validation import parse_body
from functions.emergency import on_call
from functions.emergency.blueprint import bp, headers
from functions.emergency.schemas import OnCallConfirmIn, OnCallIn


@bp.route("/doctor/on-call", methods=["GET"])
def get_on_call() -> Response:
    """The doctor's on-call setting for the emergency line."""
    doctor = require_user(headers(), roles=(DOCTOR,))
    return respond(onCall=on_call.get_on_call(doctor))


@bp.route("/doctor/on-call", methods=["PUT"])
def put_on_call() -> Response:
    """Go on or off call, or change the number the emergency line rings (a code confirms it)."""
    doctor = require_user(headers(), roles=(DOCTOR,))
    request = bp.current_request
    assert request is not None
    body = parse_body(request, OnCallIn)
    return respond(onCall=on_call.set_on_call(doctor, body, source_ip(request)))


@bp.route("/doctor/on-call/confirm", methods=["POST"])
def confirm_on_call() -> Response:
    """The code texted to the number waiting: it becomes the number the emergency line rings."""
    doctor = require_user(headers(), roles=(DOCTOR,))
    body = parse_body(bp.current_request, OnCallConfirmIn)
    return respond(onCall=on_call.confirm(doctor, body))
