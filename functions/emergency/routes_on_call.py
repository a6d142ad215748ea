"""HTTP routes of a doctor's on-call switch (`/doctor/on-call`: whether the line rings them)."""

from __future__ import annotations

from chalice.app import Response

from functions.core.envelope import respond
from functions.core.security import DOCTOR, require_user
from functions.core.validation import parse_body
from functions.emergency import on_call
from functions.emergency.blueprint import bp, headers
from functions.emergency.schemas import OnCallIn


@bp.route("/doctor/on-call", methods=["GET"])
def get_on_call() -> Response:
    doctor = require_user(headers(), roles=(DOCTOR,))
    return respond(onCall=on_call.get_on_call(doctor))


@bp.route("/doctor/on-call", methods=["PUT"])
def put_on_call() -> Response:
    doctor = require_user(headers(), roles=(DOCTOR,))
    body = parse_body(bp.current_request, OnCallIn)
    return respond(onCall=on_call.set_on_call(doctor, body))
