"""Routes of the waitlist: join, the caller's entries, leave, accept or decline an offer."""

from typing import Literal

from chalice.app import Response
from pydantic import BaseModel, Field

from functions.appointments import waitlist, waitlist_answers
from functions.appointments.routes.blueprint import bp, headers
from functions.appointments.schemas import WaitlistIn
from functions.core.envelope import respond
from functions.core.openapi import describe
from functions.core.security import PATIENT, require_user
from functions.core.validation import parse_body


class OfferOut(BaseModel):
    appointment: str
    day: str
    time: str
    expiresAt: str


class EntryOut(BaseModel):
    id: str = Field(alias="_id")
    doctor: str
    day: str
    untilDay: str
    from_: str = Field(alias="from")
    to: str
    status: str
    offer: OfferOut | None


class EntryAnswer(BaseModel):
    success: Literal[True]
    entry: EntryOut


class WaitlistAnswer(BaseModel):
    success: Literal[True]
    waitlist: list[EntryOut]


class LeftAnswer(BaseModel):
    success: Literal[True]
    message: str


@bp.route("/appointment/waitlist", methods=["POST"])
@describe(response=EntryAnswer, status=201)
def join() -> Response:
    patient = require_user(headers(), roles=(PATIENT,))
    return respond(201, entry=waitlist.join(patient, parse_body(bp.current_request, WaitlistIn)))


@bp.route("/appointment/waitlist/my", methods=["GET"])
@describe(response=WaitlistAnswer)
def mine() -> Response:
    patient = require_user(headers(), roles=(PATIENT,))
    return respond(waitlist=waitlist.mine(patient))


@bp.route("/appointment/waitlist/{entry_id}", methods=["DELETE"])
@describe(response=LeftAnswer)
def leave(entry_id: str) -> Response:
    patient = require_user(headers(), roles=(PATIENT,))
    waitlist.leave(patient, entry_id)
    return respond(message="You left the waitlist")


class AcceptedAnswer(BaseModel):
    success: Literal[True]
    appointment: dict[str, object]


@bp.route("/appointment/waitlist/{entry_id}/accept", methods=["PUT"])
@describe(response=AcceptedAnswer)
def accept(entry_id: str) -> Response:
    patient = require_user(headers(), roles=(PATIENT,))
    return respond(appointment=waitlist_answers.accept(patient, entry_id))


@bp.route("/appointment/waitlist/{entry_id}/decline", methods=["PUT"])
@describe(response=LeftAnswer)
def decline(entry_id: str) -> Response:
    patient = require_user(headers(), roles=(PATIENT,))
    waitlist_answers.decline(patient, entry_id)
    return respond(message="Offer declined")
