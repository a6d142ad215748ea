"""HTTP routes of the appointments domain (thin handlers only).

`/doctor/availability` and `/doctor/time-off` live here too: they are the doctor's side of
scheduling, stored on the doctor's user document and read by the slots and booking rules.
"""

from typing import Any

from chalice.app import Response

from functions.appointments import booking, lifecycle, reads, scheduling
from functions.appointments import slots as slot_finder
from functions.appointments.schemas import (
    AvailabilityIn,
    BookingIn,
    CancelIn,
    MyQuery,
    OptionalCancelIn,
    RescheduleIn,
    TimeOffIn,
)
from functions.core.http import Blueprint, pagination, parse_body, parse_query, respond
from functions.core.security import ADMIN, DOCTOR, PATIENT, require_user

bp = Blueprint(__name__)


def _headers() -> Any:
    request = bp.current_request
    return request.headers if request is not None else {}


# ---------------------------------------------------------------- the doctor's availability


@bp.route("/doctor/availability", methods=["GET"])
def get_availability() -> Response:
    doctor = require_user(_headers(), roles=(DOCTOR,))
    return respond(**scheduling.get_availability(doctor.user))


@bp.route("/doctor/availability", methods=["PUT"])
def put_availability() -> Response:
    doctor = require_user(_headers(), roles=(DOCTOR,))
    body = parse_body(bp.current_request, AvailabilityIn)
    return respond(availability=scheduling.set_availability(doctor.user, body))


@bp.route("/doctor/time-off", methods=["POST"])
def post_time_off() -> Response:
    doctor = require_user(_headers(), roles=(DOCTOR,))
    entry, affected = scheduling.add_time_off(doctor.user, parse_body(bp.current_request, TimeOffIn))
    return respond(201, timeOff=entry, affectedAppointments=affected)


@bp.route("/doctor/time-off/{entry_id}", methods=["DELETE"])
def delete_time_off(entry_id: str) -> Response:
    doctor = require_user(_headers(), roles=(DOCTOR,))
    scheduling.remove_time_off(doctor.user, entry_id)
    return respond(message="Time off removed")


# ---------------------------------------------------------------- slots and booking


@bp.route("/appointment/slots/{doctor_id}/{day}", methods=["GET"])
def slots(doctor_id: str, day: str) -> Response:
    return respond(**slot_finder.available_slots(doctor_id, day))


@bp.route("/appointment/new", methods=["POST"])
def book() -> Response:
    patient = require_user(_headers(), roles=(PATIENT,))
    return respond(201, appointment=booking.book(patient.user, parse_body(bp.current_request, BookingIn)))


@bp.route("/appointment/my", methods=["GET"])
def my_appointments() -> Response:
    user = require_user(_headers(), roles=(PATIENT, DOCTOR))
    query = parse_query(bp.current_request, MyQuery)
    items, total, page, limit = reads.my_appointments(user.user, query)
    return respond(count=len(items), appointments=items, pagination=pagination(total, page, limit))


@bp.route("/appointment/{appointment_id}", methods=["GET"])
def read_one(appointment_id: str) -> Response:
    user = require_user(_headers(), roles=(PATIENT, DOCTOR, ADMIN))
    return respond(appointment=reads.read_one(user.user, appointment_id))


# ---------------------------------------------------------------- lifecycle


def _transition(appointment_id: str, action: str, body: type[CancelIn | OptionalCancelIn] | None = None
                ) -> dict[str, Any]:
    user = require_user(_headers(), roles=(PATIENT, DOCTOR, ADMIN))
    reason = parse_body(bp.current_request, body).reason if body is not None else ""
    return lifecycle.transition(user.user, appointment_id, action, reason)


@bp.route("/appointment/{appointment_id}/confirm", methods=["PUT"])
def confirm(appointment_id: str) -> Response:
    return respond(appointment=_transition(appointment_id, "confirm"))


@bp.route("/appointment/{appointment_id}/complete", methods=["PUT"])
def complete(appointment_id: str) -> Response:
    return respond(appointment=_transition(appointment_id, "complete"))


@bp.route("/appointment/{appointment_id}/no-show", methods=["PUT"])
def no_show(appointment_id: str) -> Response:
    return respond(appointment=_transition(appointment_id, "no_show"))


@bp.route("/appointment/{appointment_id}/cancel", methods=["PUT"])
def cancel(appointment_id: str) -> Response:
    return respond(appointment=_transition(appointment_id, "cancel", CancelIn))


@bp.route("/appointment/{appointment_id}", methods=["DELETE"])
def soft_cancel(appointment_id: str) -> Response:
    """The old frontend's DELETE: a cancellation that keeps the record (no hard delete)."""
    appointment = _transition(appointment_id, "cancel", OptionalCancelIn)
    return respond(message="Appointment cancelled successfully", appointment=appointment)


@bp.route("/appointment/{appointment_id}/reschedule", methods=["PUT"])
def reschedule(appointment_id: str) -> Response:
    user = require_user(_headers(), roles=(PATIENT, DOCTOR))
    return respond(appointment=lifecycle.reschedule(user.user, appointment_id,
                                                  parse_body(bp.current_request, RescheduleIn)))
