"""Routes of slots, booking and reads: a day's free slots, a new booking, the caller's list, one appointment."""

from chalice.app import Response

from functions.appointments import booking, reads
from functions.appointments import slots as free_slots
from functions.appointments.routes.blueprint import bp, headers
from functions.appointments.schemas import (
    EXAMPLES,
    AppointmentAnswer,
    AppointmentsAnswer,
    BookingIn,
    MyQuery,
    SlotsAnswer,
)
from functions.core.envelope import respond
from functions.core.errors import Code
from functions.core.openapi import describe
from functions.core.paging import pagination
from functions.core.security import ADMIN, DOCTOR, PATIENT, require_user
from functions.core.validation import parse_body, parse_query


@bp.route("/appointment/slots/{doctor_id}/{day}", methods=["GET"])
@describe(response=SlotsAnswer,
          errors=(Code.NOT_FOUND, Code.INVALID_DATE, Code.DATE_OUT_OF_RANGE), examples=EXAMPLES["slots"])
def slots(doctor_id: str, day: str) -> Response:
    """A doctor's free slots on one day (public)."""
    return respond(**free_slots.available_slots(doctor_id, day))


@bp.route("/appointment/new", methods=["POST"])
@describe(response=AppointmentAnswer, status=201,

          errors=(Code.NOT_FOUND, Code.SELF_BOOKING, Code.NOT_ACCEPTING, Code.SLOT_IN_PAST, Code.BEYOND_HORIZON,
                  Code.NOT_A_SLOT, Code.TOO_SOON, Code.DOCTOR_AWAY, Code.SLOT_TAKEN, Code.PATIENT_BUSY,
                  Code.INVALID_DATE, Code.INVALID_TIME, Code.DATE_OUT_OF_RANGE, Code.TOO_MANY_APPOINTMENTS,
                  Code.TOO_MANY_WITH_DOCTOR, Code.IDEMPOTENCY_KEY_REUSED, Code.REQUEST_IN_PROGRESS),
          examples=EXAMPLES["book"])
def book() -> Response:
    """Book a free slot with a doctor (patient); an Idempotency-Key makes a retry safe."""
    patient = require_user(headers(), roles=(PATIENT,), also=booking.named_doctor(bp.current_request.raw_body))
    data = parse_body(bp.current_request, BookingIn)
    return respond(201, appointment=booking.book(patient, data, headers().get("idempotency-key")))


@bp.route("/appointment/my", methods=["GET"])
@describe(response=AppointmentsAnswer, errors=(Code.NOT_FOUND,), examples=EXAMPLES["my"])
def my_appointments() -> Response:
    """The caller's appointments (a patient's bookings or a doctor's patients), by start."""
    user = require_user(headers(), roles=(PATIENT, DOCTOR))
    query = parse_query(bp.current_request, MyQuery)
    items, total, page, limit = reads.my_appointments(user, query)
    return respond(count=len(items), appointments=items, pagination=pagination(total, page, limit))


@bp.route("/appointment/{appointment_id}", methods=["GET"])
@describe(response=AppointmentAnswer, errors=(Code.NOT_FOUND,))
def read_one(appointment_id: str) -> Response:
    """One appointment with its status history (its participants or an admin)."""
    user = require_user(headers(), roles=(PATIENT, DOCTOR, ADMIN))
    return respond(appointment=reads.read_one(user, appointment_id))
