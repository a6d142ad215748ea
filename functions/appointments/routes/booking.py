"""Routes of slots, booking and reads: a day's free slots, a new booking, the caller's list, one appointment."""

from chalice.app import Response

from functions.appointments import booking, reads
from functions.appointments import slots as free_slots
from functions.appointments.routes.blueprint import bp, headers
from functions.appointments.schemas import BookingIn, MyQuery
from functions.core.envelope import respond
from functions.core.paging import pagination
from functions.core.security import ADMIN, DOCTOR, PATIENT, require_user
from functions.core.validation import parse_body, parse_query


@bp.route("/appointment/slots/{doctor_id}/{day}", methods=["GET"])
def slots(doctor_id: str, day: str) -> Response:
    return respond(**free_slots.available_slots(doctor_id, day))


@bp.route("/appointment/new", methods=["POST"])
def book() -> Response:
    patient = require_user(headers(), roles=(PATIENT,), also=booking.named_doctor(bp.current_request.raw_body))
    data = parse_body(bp.current_request, BookingIn)
    return respond(201, appointment=booking.book(patient, data, headers().get("idempotency-key")))


@bp.route("/appointment/my", methods=["GET"])
def my_appointments() -> Response:
    user = require_user(headers(), roles=(PATIENT, DOCTOR))
    query = parse_query(bp.current_request, MyQuery)
    items, total, page, limit = reads.my_appointments(user, query)
    return respond(count=len(items), appointments=items, pagination=pagination(total, page, limit))


@bp.route("/appointment/{appointment_id}", methods=["GET"])
def read_one(appointment_id: str) -> Response:
    user = require_user(headers(), roles=(PATIENT, DOCTOR, ADMIN))
    return respond(appointment=reads.read_one(user, appointment_id))
