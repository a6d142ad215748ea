"""Routes of the doctor's scheduling settings: weekly hours and time off (`appointments.scheduling`)."""

from chalice.app import Response

from functions.appointments import scheduling
from functions.appointments.routes.blueprint import bp, headers
from functions.appointments.schemas import (
    AvailabilityAnswer,
    AvailabilityIn,
    ScheduleAnswer,
    TimeOffAnswer,
    TimeOffIn,
)
from functions.core.envelope import respond
from functions.core.errors import Code
from functions.core.openapi import describe
from functions.core.schemas import MessageAnswer
from functions.core.security import DOCTOR, require_user
from functions.core.validation import parse_body


@bp.route("/doctor/availability", methods=["GET"])
@describe(response=ScheduleAnswer, errors=(Code.NOT_FOUND,))
def get_availability() -> Response:
    """The doctor's weekly hours, booking rules and upcoming time off."""
    doctor = require_user(headers(), roles=(DOCTOR,))
    return respond(**scheduling.get_availability(doctor))


@bp.route("/doctor/availability", methods=["PUT"])
@describe(response=AvailabilityAnswer, errors=(Code.INVALID_TIME, Code.INVALID_RANGE))
def put_availability() -> Response:
    """Replace the doctor's weekly hours and booking rules."""
    doctor = require_user(headers(), roles=(DOCTOR,))
    body = parse_body(bp.current_request, AvailabilityIn)
    return respond(availability=scheduling.set_availability(doctor, body))


@bp.route("/doctor/time-off", methods=["POST"])
@describe(response=TimeOffAnswer, status=201, errors=(Code.INVALID_RANGE, Code.TOO_MANY, Code.INVALID_DATE))
def post_time_off() -> Response:
    """Add time off; the answer lists the appointments inside it."""
    doctor = require_user(headers(), roles=(DOCTOR,))
    entry, affected = scheduling.add_time_off(doctor, parse_body(bp.current_request, TimeOffIn))
    return respond(201, timeOff=entry, affectedAppointments=affected)


@bp.route("/doctor/time-off/{entry_id}", methods=["DELETE"])
@describe(response=MessageAnswer, errors=(Code.NOT_FOUND,))
def delete_time_off(entry_id: str) -> Response:
    """Remove one entry of the doctor's time off."""
    doctor = require_user(headers(), roles=(DOCTOR,))
    scheduling.remove_time_off(doctor, entry_id)
    return respond(message="Time off removed")
