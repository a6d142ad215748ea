"""HTTP routes of the emergency line's Twilio voice webhooks: each answers TwiML."""

from __future__ import annotations

from chalice.app import Response

from functions.core.bodies import FORM
from functions.core.errors import Code
from functions.core.openapi import describe
from functions.emergency import calls, ivr
from functions.emergency.blueprint import bp


def _call(step: str) -> calls.Call:
    request = bp.current_request
    assert request is not None
    query = dict(request.query_params or {})
    return calls.incoming(step, request.raw_body, query, request.headers.get("x-twilio-signature"))


# Twilio's voice webhooks answer TwiML; a request without Twilio's signature is refused.
TWIML = "text/xml; charset=utf-8"
IVR_ERRORS = (Code.BAD_SIGNATURE, Code.IVR_NOT_CONFIGURED, Code.VALIDATION_FAILED)


def _twiml(body: str) -> Response:
    return Response(body=body, status_code=200, headers={"Content-Type": TWIML})


@bp.route("/ivr/voice", methods=["POST"], body_types=(FORM,))
@describe(content_type=TWIML, errors=IVR_ERRORS)
def ivr_voice() -> Response:
    """Twilio: a call to the emergency line starts with the language choice, then the menu."""
    return _twiml(ivr.voice(_call("voice")))


@bp.route("/ivr/menu", methods=["POST"], body_types=(FORM,))
@describe(content_type=TWIML, errors=IVR_ERRORS)
def ivr_menu() -> Response:
    """Twilio: the caller's choice: 1 a doctor on call now, 2 the nearest hospitals, 3 a call back."""
    return _twiml(ivr.menu(_call("menu")))


@bp.route("/ivr/dial", methods=["POST"], body_types=(FORM,))
@describe(content_type=TWIML, errors=IVR_ERRORS)
def ivr_dial() -> Response:
    """Twilio: how ringing one doctor ended; the next doctor on call is rung unless one answered."""
    return _twiml(ivr.dial_result(_call("dial")))


@bp.route("/ivr/pincode", methods=["POST"], body_types=(FORM,))
@describe(content_type=TWIML, errors=IVR_ERRORS)
def ivr_pincode() -> Response:
    """Twilio: the six-digit pincode the caller typed; the nearest hospitals are read out."""
    return _twiml(ivr.pincode_entered(_call("pincode")))
