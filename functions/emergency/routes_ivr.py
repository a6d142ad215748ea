"""HTTP routes of the emergency line's Twilio voice webhooks: each answers TwiML."""

from __future__ import annotations

from chalice.app import Response

from functions.core.bodies import FORM
from functions.emergency import calls, ivr
from functions.emergency.blueprint import bp


def _call(step: str) -> calls.Call:
    request = bp.current_request
    assert request is not None
    query = dict(request.query_params or {})
    return calls.incoming(step, request.raw_body, query, request.headers.get("x-twilio-signature"))


def _twiml(body: str) -> Response:
    return Response(body=body, status_code=200, headers={"Content-Type": "text/xml; charset=utf-8"})


@bp.route("/ivr/voice", methods=["POST"], body_types=(FORM,))
def ivr_voice() -> Response:
    """Twilio webhook: an incoming call to the emergency line (TwiML)."""
    return _twiml(ivr.voice(_call("voice")))


@bp.route("/ivr/menu", methods=["POST"], body_types=(FORM,))
def ivr_menu() -> Response:
    """Twilio webhook: the caller's menu choice on the emergency line (TwiML)."""
    return _twiml(ivr.menu(_call("menu")))


@bp.route("/ivr/dial", methods=["POST"], body_types=(FORM,))
def ivr_dial() -> Response:
    """Twilio webhook: the outcome of ringing an on-call doctor (TwiML)."""
    return _twiml(ivr.dial_result(_call("dial")))


@bp.route("/ivr/pincode", methods=["POST"], body_types=(FORM,))
def ivr_pincode() -> Response:
    """Twilio webhook: the caller's PIN on the emergency line (TwiML)."""
    return _twiml(ivr.pincode_entered(_call("pincode")))
