"""HTTP routes of the emergency line: Twilio's voice webhooks (TwiML answers), the hospitals
admin, and the doctors' on-call switch (`/doctor/on-call`: who the line rings)."""

from typing import Any

from chalice.app import Response

from functions.core.http import Blueprint, pagination, parse_body, parse_query, respond
from functions.core.security import ADMIN, DOCTOR, require_user
from functions.emergency import hospitals, on_call, service
from functions.emergency.schemas import HospitalIn, HospitalPatch, HospitalsQuery, OnCallIn

bp = Blueprint(__name__)
FORM = ["application/x-www-form-urlencoded"]


def _headers() -> Any:
    request = bp.current_request
    return request.headers if request is not None else {}


def _call(step: str) -> service.Call:
    request = bp.current_request
    assert request is not None
    query = dict(request.query_params or {})
    return service.incoming(step, request.raw_body, query, request.headers.get("x-twilio-signature"))


def _twiml(body: str) -> Response:
    return Response(body=body, status_code=200, headers={"Content-Type": "text/xml; charset=utf-8"})


# ---------------------------------------------------------------- Twilio webhooks


@bp.route("/ivr/voice", methods=["POST"], content_types=FORM)
def ivr_voice() -> Response:
    return _twiml(service.voice(_call("voice")))


@bp.route("/ivr/menu", methods=["POST"], content_types=FORM)
def ivr_menu() -> Response:
    return _twiml(service.menu(_call("menu")))


@bp.route("/ivr/dial", methods=["POST"], content_types=FORM)
def ivr_dial() -> Response:
    return _twiml(service.dial_result(_call("dial")))


@bp.route("/ivr/pincode", methods=["POST"], content_types=FORM)
def ivr_pincode() -> Response:
    return _twiml(service.pincode_entered(_call("pincode")))


# ---------------------------------------------------------------- hospitals (admin)


@bp.route("/admin/hospitals", methods=["GET"])
def list_hospitals() -> Response:
    require_user(_headers(), roles=(ADMIN,))
    query = parse_query(bp.current_request, HospitalsQuery)
    items, total = hospitals.listing(query)
    return respond(hospitals=items, pagination=pagination(total, query.page, query.limit))


@bp.route("/admin/hospitals", methods=["POST"])
def create_hospital() -> Response:
    require_user(_headers(), roles=(ADMIN,))
    body = parse_body(bp.current_request, HospitalIn)
    return respond(201, hospital=hospitals.create(body))


@bp.route("/admin/hospitals/{hospital_id}", methods=["GET"])
def get_hospital(hospital_id: str) -> Response:
    require_user(_headers(), roles=(ADMIN,))
    return respond(hospital=hospitals.read(hospital_id))


@bp.route("/admin/hospitals/{hospital_id}", methods=["PUT"])
def update_hospital(hospital_id: str) -> Response:
    require_user(_headers(), roles=(ADMIN,))
    body = parse_body(bp.current_request, HospitalPatch)
    return respond(hospital=hospitals.update(hospital_id, body))


@bp.route("/admin/hospitals/{hospital_id}", methods=["DELETE"])
def delete_hospital(hospital_id: str) -> Response:
    require_user(_headers(), roles=(ADMIN,))
    hospitals.delete(hospital_id)
    return respond(message="Hospital deleted")


# ---------------------------------------------------------------- the doctor's on-call switch


@bp.route("/doctor/on-call", methods=["GET"])
def get_on_call() -> Response:
    doctor = require_user(_headers(), roles=(DOCTOR,))
    return respond(onCall=on_call.get_on_call(doctor))


@bp.route("/doctor/on-call", methods=["PUT"])
def put_on_call() -> Response:
    doctor = require_user(_headers(), roles=(DOCTOR,))
    body = parse_body(bp.current_request, OnCallIn)
    return respond(onCall=on_call.set_on_call(doctor, body))
