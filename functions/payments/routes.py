"""HTTP routes of payments (thin handlers only)."""

from typing import Any

from chalice.app import Response

from functions.core.edge import Blueprint
from functions.core.envelope import respond
from functions.core.openapi import describe
from functions.core.security import ADMIN, PATIENT, require_user
from functions.core.validation import parse_body
from functions.payments import intents, webhook
from functions.payments.schemas import IntentAnswer, IntentIn

bp = Blueprint(__name__)


def _headers() -> Any:
    request = bp.current_request
    return request.headers if request is not None else {}


@bp.route("/payments/intent", methods=["POST"])
@describe(response=IntentAnswer, status=201)
def create_intent() -> Response:
    """Start paying for an appointment or an order (a Stripe PaymentIntent)."""
    payer = require_user(_headers(), roles=(PATIENT,))
    body = parse_body(bp.current_request, IntentIn)
    return respond(201, **intents.create_intent(payer, body).model_dump())


@bp.route("/payments/{kind}/{target_id}", methods=["GET"])
def payment_status(kind: str, target_id: str) -> Response:
    """Where the payment of an appointment or an order stands."""
    user = require_user(_headers(), roles=(PATIENT, ADMIN))
    return respond(payment=intents.payment_status(user, kind, target_id))


@bp.route("/payments/webhook", methods=["POST"], content_types=["application/json"])
def stripe_webhook() -> Response:
    """Stripe webhook: a payment succeeded, failed or was refunded (signed)."""
    request = bp.current_request
    assert request is not None
    return respond(**webhook.handle_webhook(request.raw_body, request.headers.get("stripe-signature")))
