"""Routes of an appointment's life after booking: confirm, complete, no-show, cancel, reschedule."""

from typing import Any

from chalice.app import Response

from functions.appointments import lifecycle
from functions.appointments.routes.blueprint import bp, headers
from functions.appointments.schemas import (
    AppointmentAnswer,
    CancelIn,
    CancelledAnswer,
    OptionalCancelIn,
    RescheduleIn,
)
from functions.appointments.status import CANCEL, COMPLETE, CONFIRM, MARK_NO_SHOW
from functions.core.envelope import respond
from functions.core.errors import Code
from functions.core.openapi import describe
from functions.core.security import ADMIN, DOCTOR, PATIENT, require_user
from functions.core.validation import parse_body

# What any move of an appointment's status can be refused with.
TRANSITION_ERRORS = (Code.NOT_FOUND, Code.ILLEGAL_TRANSITION, Code.APPOINTMENT_CHANGED, Code.NOT_STARTED,
                     Code.CANCEL_CUTOFF, Code.CONFLICT)


def _transition(appointment_id: str, action: str, body: type[CancelIn | OptionalCancelIn] | None = None
                ) -> dict[str, Any]:
    user = require_user(headers(), roles=(PATIENT, DOCTOR, ADMIN))
    reason = parse_body(bp.current_request, body).reason if body is not None else ""
    return lifecycle.transition(user, appointment_id, action, reason)


@bp.route("/appointment/{appointment_id}/confirm", methods=["PUT"])
@describe(response=AppointmentAnswer, errors=TRANSITION_ERRORS)
def confirm(appointment_id: str) -> Response:
    """Confirm a pending appointment (its doctor)."""
    return respond(appointment=_transition(appointment_id, CONFIRM))


@bp.route("/appointment/{appointment_id}/complete", methods=["PUT"])
@describe(response=AppointmentAnswer, errors=TRANSITION_ERRORS)
def complete(appointment_id: str) -> Response:
    """Mark a started appointment completed (its doctor)."""
    return respond(appointment=_transition(appointment_id, COMPLETE))


@bp.route("/appointment/{appointment_id}/no-show", methods=["PUT"])
@describe(response=AppointmentAnswer, errors=TRANSITION_ERRORS)
def no_show(appointment_id: str) -> Response:
    """Mark that the patient did not come (its doctor, after the start)."""
    return respond(appointment=_transition(appointment_id, MARK_NO_SHOW))


@bp.route("/appointment/{appointment_id}/cancel", methods=["PUT"])
@describe(response=AppointmentAnswer, errors=TRANSITION_ERRORS)
def cancel(appointment_id: str) -> Response:
    """Cancel an appointment with a reason (a participant or an admin)."""
    return respond(appointment=_transition(appointment_id, CANCEL, CancelIn))


@bp.route("/appointment/{appointment_id}", methods=["DELETE"])
@describe(response=CancelledAnswer, errors=TRANSITION_ERRORS)
def soft_cancel(appointment_id: str) -> Response:
    """Cancel an appointment, keeping its record (the old frontend's DELETE).

    The old frontend's DELETE: a cancellation that keeps the record (no hard delete)."""
    appointment = _transition(appointment_id, CANCEL, OptionalCancelIn)
    return respond(message="Appointment cancelled successfully", appointment=appointment)


@bp.route("/appointment/{appointment_id}/reschedule", methods=["PUT"])
@describe(response=AppointmentAnswer,
          errors=(*TRANSITION_ERRORS, Code.SELF_BOOKING, Code.NOT_ACCEPTING, Code.SLOT_IN_PAST,
                  Code.BEYOND_HORIZON, Code.NOT_A_SLOT, Code.TOO_SOON, Code.DOCTOR_AWAY, Code.SLOT_TAKEN,
                  Code.PATIENT_BUSY, Code.INVALID_DATE, Code.INVALID_TIME, Code.DATE_OUT_OF_RANGE, Code.SAME_SLOT))
def reschedule(appointment_id: str) -> Response:
    """Move an appointment to another free slot of the same doctor."""
    user = require_user(headers(), roles=(PATIENT, DOCTOR))
    return respond(appointment=lifecycle.reschedule(user, appointment_id,
                                                    parse_body(bp.current_request, RescheduleIn)))
