"""HTTP routes of payments (thin handlers only)."""

from chalice.app import Response

from functions.core.edge import Blueprint
from functions.core.envelope import respond
from functions.core.errors import Code
from functions.core.openapi import describe
from functions.core.paging import pagination
from functions.core.schemas import PageQuery
from functions.core.security import ADMIN, PATIENT, require_user
from functions.core.validation import parse_body, parse_query
from functions.payments import examples, intents, review, webhook
from functions.payments.schemas import FlaggedPaymentsAnswer, IntentAnswer, IntentIn, PaymentAnswer, WebhookAnswer

bp = Blueprint(__name__)
_headers = bp.request_headers


@bp.route("/payments/intent", methods=["POST"])
@describe(response=IntentAnswer, status=201, errors=(Code.NOT_FOUND, Code.NOT_PAYABLE, Code.NOTHING_TO_PAY,
          Code.ALREADY_PAID, Code.PAYMENTS_NOT_CONFIGURED, Code.PAYMENT_PROVIDER_ERROR, Code.VALIDATION_FAILED),
          examples=examples.INTENT)
def create_intent() -> Response:
    """Start paying for an appointment or an online order: a Stripe PaymentIntent for the amount due."""
    payer = require_user(_headers(), roles=(PATIENT,))
    body = parse_body(bp.current_request, IntentIn)
    return respond(201, **intents.create_intent(payer, body).model_dump())


@bp.route("/payments/{kind}/{target_id}", methods=["GET"])
@describe(response=PaymentAnswer, errors=(Code.NOT_FOUND,))
def payment_status(kind: str, target_id: str) -> Response:
    """The payment of an appointment or an order, for its payer or an admin (`kind`: appointment or order)."""
    user = require_user(_headers(), roles=(PATIENT, ADMIN))
    return respond(payment=intents.payment_status(user, kind, target_id))


@bp.route("/admin/payments/flagged", methods=["GET"])
@describe(response=FlaggedPaymentsAnswer)
def flagged_payments() -> Response:
    """Payments whose success event did not take what was charged (not paid, flagged): for an admin to act on."""
    admin = require_user(_headers(), roles=(ADMIN,))
    query = parse_query(bp.current_request, PageQuery)
    payments, total = review.flagged_payments(admin, query)
    return respond(payments=payments, pagination=pagination(total, query.page, query.limit))


@bp.route("/payments/webhook", methods=["POST"], content_types=["application/json"])
@describe(response=WebhookAnswer, errors=(Code.BAD_SIGNATURE, Code.BAD_EVENT, Code.PAYMENTS_NOT_CONFIGURED))
def stripe_webhook() -> Response:
    """Stripe's webhook: a signed event of a payment or a refund, recorded once (`Stripe-Signature`)."""
    request = bp.current_request
    assert request is not None
    return respond(**webhook.handle_webhook(request.raw_body, request.headers.get("stripe-signature")))
