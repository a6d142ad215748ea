"""Routes: orders (customers and the pharmacy's owner) and the pharmacist's report."""

from chalice.app import Response

from functions.core.envelope import respond
from functions.core.errors import Code
from functions.core.openapi import describe
from functions.core.paging import pagination
from functions.core.security import ADMIN, PATIENT, PHARMACIST, require_user
from functions.core.validation import parse_body, parse_query
from functions.pharmacy import cancellation, examples, fulfilment, order_lists, placing, rating, reports
from functions.pharmacy.blueprint import bp, headers, request
from functions.pharmacy.order_schemas import CancelIn, OrderIn, OrderListQuery, RateIn, ReportQuery, StatusIn
from functions.pharmacy.out_schemas import OrderAnswer, OrderListAnswer, OrderSavedAnswer, ReportAnswer


@bp.route("/orders", methods=["POST"])
@describe(response=OrderSavedAnswer, status=201, errors=(Code.NOT_FOUND, Code.ITEM_UNAVAILABLE, Code.ITEM_EXPIRED,
          Code.PRESCRIPTION_REQUIRED, Code.PRESCRIPTION_INVALID, Code.OUT_OF_STOCK, Code.ORDER_LIMIT,
          Code.IDEMPOTENCY_KEY_REUSED, Code.REQUEST_IN_PROGRESS, Code.VALIDATION_FAILED),
          examples=examples.PLACE_ORDER)
def place() -> Response:
    """Place an order with one pharmacy: priced from its catalogue, stock taken atomically, `Idempotency-Key` kept."""
    customer = require_user(headers(), roles=(PATIENT,))
    data = parse_body(request(), OrderIn)
    placed = placing.place(customer, data, headers().get("idempotency-key"))
    replay = {"Idempotent-Replayed": "true"} if placed.replayed else None
    return respond(201, headers=replay, message="Order placed successfully", order=placed.order)


@bp.route("/orders/my", methods=["GET"])
@describe(response=OrderListAnswer, errors=(Code.VALIDATION_FAILED,))
def my_orders() -> Response:
    """The caller's own orders: any signed-in role (empty for those who never order)."""
    caller = require_user(headers(), approved=False)
    query = parse_query(request(), OrderListQuery)
    items, total = order_lists.my_orders(caller, query)
    return respond(count=len(items), orders=items, pagination=pagination(total, query.page, query.limit))


@bp.route("/pharmacy/orders", methods=["GET"])
@describe(response=OrderListAnswer, errors=(Code.NO_PHARMACY, Code.VALIDATION_FAILED))
def pharmacy_orders() -> Response:
    """The orders of the caller's pharmacy, newest first, each with its customer's name and contact."""
    owner = require_user(headers(), roles=(PHARMACIST,))
    query = parse_query(request(), OrderListQuery)
    items, total = order_lists.pharmacy_orders(owner, query)
    return respond(count=len(items), orders=items, pagination=pagination(total, query.page, query.limit))


@bp.route("/pharmacy/report", methods=["GET"])
@describe(response=ReportAnswer, errors=(Code.NO_PHARMACY, Code.INVALID_DATE, Code.VALIDATION_FAILED))
def report() -> Response:
    """The caller's pharmacy report: orders per status and day, top medicines and revenue for a period."""
    owner = require_user(headers(), roles=(PHARMACIST,))
    return respond(report=reports.pharmacy_report(owner, parse_query(request(), ReportQuery)))


@bp.route("/order/{order_id}", methods=["GET"])
@describe(response=OrderAnswer, errors=(Code.NOT_FOUND,))
def read(order_id: str) -> Response:
    """One order, for its customer, its pharmacy's owner or an admin."""
    caller = require_user(headers(), roles=(PATIENT, PHARMACIST, ADMIN))
    return respond(order=order_lists.read(caller, order_id))


@bp.route("/order/{order_id}/status", methods=["PUT"])
@describe(response=OrderSavedAnswer, errors=(Code.NO_PHARMACY, Code.NOT_FOUND, Code.ILLEGAL_TRANSITION,
          Code.PAYMENT_PENDING, Code.VALIDATION_FAILED))
def change_status(order_id: str) -> Response:
    """The pharmacy moves an order along: confirmed, preparing, ready, dispatched, delivered or cancelled."""
    owner = require_user(headers(), roles=(PHARMACIST,))
    order = fulfilment.change_status(owner, order_id, parse_body(request(), StatusIn))
    return respond(message="Order status updated successfully", order=order)


@bp.route("/order/{order_id}/cancel", methods=["PUT"])
@describe(response=OrderSavedAnswer, errors=(Code.NOT_FOUND, Code.ILLEGAL_TRANSITION, Code.VALIDATION_FAILED))
def cancel(order_id: str) -> Response:
    """The customer cancels an order still pending or confirmed; its stock goes back."""
    customer = require_user(headers(), roles=(PATIENT,))
    order = cancellation.cancel(customer, order_id, parse_body(request(), CancelIn))
    return respond(message="Order cancelled successfully", order=order)


@bp.route("/order/{order_id}/rate", methods=["PUT"])
@describe(response=OrderSavedAnswer, errors=(Code.NOT_FOUND, Code.ALREADY_RATED, Code.VALIDATION_FAILED))
def rate(order_id: str) -> Response:
    """The customer rates a delivered order once (1 to 5, with an optional review)."""
    customer = require_user(headers(), roles=(PATIENT,))
    order = rating.rate(customer, order_id, parse_body(request(), RateIn))
    return respond(message="Order rated successfully", order=order)
