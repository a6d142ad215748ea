"""Routes of the waitlist: join, the caller's entries, leave, accept or decline an offer."""

from __future__ import annotations

from chalice.app import Response

from functions.appointments import waitlist, waitlist_answers
from functions.appointments.routes.blueprint import bp, headers
from functions.appointments.schemas import AppointmentAnswer, WaitlistAnswer, WaitlistEntryAnswer, WaitlistIn
from functions.core.envelope import respond
from functions.core.errors import Code
from functions.core.openapi import describe
from functions.core.schemas import MessageAnswer
from functions.core.security import PATIENT, require_user
from functions.core.validation import parse_body


@bp.route("/appointment/waitlist", methods=["POST"])
@describe(response=WaitlistEntryAnswer, status=201,
          errors=(Code.NOT_FOUND, Code.WAITLIST_FULL, Code.INVALID_DATE, Code.DATE_OUT_OF_RANGE, Code.SLOT_IN_PAST,
                  Code.SELF_BOOKING))
def join() -> Response:
    """Join a doctor's waitlist for a day (or up to 14 days) and a local time window."""
    patient = require_user(headers(), roles=(PATIENT,))
    return respond(201, entry=waitlist.join(patient, parse_body(bp.current_request, WaitlistIn)))


@bp.route("/appointment/waitlist/my", methods=["GET"])
@describe(response=WaitlistAnswer, errors=(Code.FORBIDDEN,))  # patients only
def mine() -> Response:
    """The caller's waitlist entries, each with the slot offered to them, if any."""
    patient = require_user(headers(), roles=(PATIENT,))
    return respond(waitlist=waitlist.mine(patient))


@bp.route("/appointment/waitlist/{entry_id}", methods=["DELETE"])
@describe(response=MessageAnswer, errors=(Code.NOT_FOUND, Code.ILLEGAL_TRANSITION))
def leave(entry_id: str) -> Response:
    """Leave a waitlist (an entry holding an offer declines it first)."""
    patient = require_user(headers(), roles=(PATIENT,))
    waitlist.leave(patient, entry_id)
    return respond(message="You left the waitlist")


@bp.route("/appointment/waitlist/{entry_id}/accept", methods=["PUT"])
@describe(response=AppointmentAnswer,
          errors=(Code.NOT_FOUND, Code.OFFER_GONE, Code.TOO_MANY_APPOINTMENTS, Code.TOO_MANY_WITH_DOCTOR))
def accept(entry_id: str) -> Response:
    """Accept the slot offered from a waitlist: it becomes a booking (payment first where required)."""
    patient = require_user(headers(), roles=(PATIENT,))
    return respond(appointment=waitlist_answers.accept(patient, entry_id))


@bp.route("/appointment/waitlist/{entry_id}/decline", methods=["PUT"])
@describe(response=MessageAnswer, errors=(Code.NOT_FOUND, Code.OFFER_GONE))
def decline(entry_id: str) -> Response:
    """Decline the slot offered from a waitlist (the next patient in line is offered it)."""
    patient = require_user(headers(), roles=(PATIENT,))
    waitlist_answers.decline(patient, entry_id)
    return respond(message="Offer declined")
