"""Routes of the doctor's scheduling settings: weekly hours and time off (`appointments.scheduling`)."""

from chalice.app import Response

from functions.appointments import scheduling
from functions.appointments.routes.blueprint import bp, headers
from functions.appointments.schemas import AvailabilityIn, TimeOffIn
from functions.core.envelope import respond
from functions.core.security import DOCTOR, require_user
from functions.core.validation import parse_body


@bp.route("/doctor/availability", methods=["GET"])
def get_availability() -> Response:
    doctor = require_user(headers(), roles=(DOCTOR,))
    return respond(**scheduling.get_availability(doctor))


@bp.route("/doctor/availability", methods=["PUT"])
def put_availability() -> Response:
    doctor = require_user(headers(), roles=(DOCTOR,))
    body = parse_body(bp.current_request, AvailabilityIn)
    return respond(availability=scheduling.set_availability(doctor, body))


@bp.route("/doctor/time-off", methods=["POST"])
def post_time_off() -> Response:
    doctor = require_user(headers(), roles=(DOCTOR,))
    entry, affected = scheduling.add_time_off(doctor, parse_body(bp.current_request, TimeOffIn))
    return respond(201, timeOff=entry, affectedAppointments=affected)


@bp.route("/doctor/time-off/{entry_id}", methods=["DELETE"])
def delete_time_off(entry_id: str) -> Response:
    doctor = require_user(headers(), roles=(DOCTOR,))
    scheduling.remove_time_off(doctor, entry_id)
    return respond(message="Time off removed")
