"""Routes of an appointment's life after booking: confirm, complete, no-show, cancel, reschedule."""

from typing import Any

from chalice.app import Response

from functions.appointments import lifecycle
from functions.appointments.routes.blueprint import bp, headers
from functions.appointments.schemas import CancelIn, OptionalCancelIn, RescheduleIn
from functions.appointments.status import CANCEL, COMPLETE, CONFIRM, MARK_NO_SHOW
from functions.core.envelope import respond
from functions.core.security import ADMIN, DOCTOR, PATIENT, require_user
from functions.core.validation import parse_body


def _transition(appointment_id: str, action: str, body: type[CancelIn | OptionalCancelIn] | None = None
                ) -> dict[str, Any]:
    user = require_user(headers(), roles=(PATIENT, DOCTOR, ADMIN))
    reason = parse_body(bp.current_request, body).reason if body is not None else ""
    return lifecycle.transition(user, appointment_id, action, reason)


@bp.route("/appointment/{appointment_id}/confirm", methods=["PUT"])
def confirm(appointment_id: str) -> Response:
    return respond(appointment=_transition(appointment_id, CONFIRM))


@bp.route("/appointment/{appointment_id}/complete", methods=["PUT"])
def complete(appointment_id: str) -> Response:
    return respond(appointment=_transition(appointment_id, COMPLETE))


@bp.route("/appointment/{appointment_id}/no-show", methods=["PUT"])
def no_show(appointment_id: str) -> Response:
    return respond(appointment=_transition(appointment_id, MARK_NO_SHOW))


@bp.route("/appointment/{appointment_id}/cancel", methods=["PUT"])
def cancel(appointment_id: str) -> Response:
    return respond(appointment=_transition(appointment_id, CANCEL, CancelIn))


@bp.route("/appointment/{appointment_id}", methods=["DELETE"])
def soft_cancel(appointment_id: str) -> Response:
    """The old frontend's DELETE: a cancellation that keeps the record (no hard delete)."""
    appointment = _transition(appointment_id, CANCEL, OptionalCancelIn)
    return respond(message="Appointment cancelled successfully", appointment=appointment)


@bp.route("/appointment/{appointment_id}/reschedule", methods=["PUT"])
def reschedule(appointment_id: str) -> Response:
    user = require_user(headers(), roles=(PATIENT, DOCTOR))
    return respond(appointment=lifecycle.reschedule(user, appointment_id,
                                                    parse_body(bp.current_request, RescheduleIn)))
