"""Routes: orders (customers and the pharmacy's owner) and the pharmacist's report."""

from chalice.app import Response

from functions.core.envelope import respond
from functions.core.paging import pagination
from functions.core.security import ADMIN, PATIENT, PHARMACIST, require_user
from functions.core.validation import parse_body, parse_query
from functions.pharmacy import cancellation, fulfilment, order_lists, placing, rating, reports
from functions.pharmacy.blueprint import bp, headers, request
from functions.pharmacy.order_schemas import CancelIn, OrderIn, OrderListQuery, RateIn, ReportQuery, StatusIn


@bp.route("/orders", methods=["POST"])
def place() -> Response:
    """Place an order with one pharmacy (customer); an Idempotency-Key makes a retry safe."""
    customer = require_user(headers(), roles=(PATIENT,))
    data = parse_body(request(), OrderIn)
    placed = placing.place(customer, data, headers().get("idempotency-key"))
    replay = {"Idempotent-Replayed": "true"} if placed.replayed else None
    return respond(201, headers=replay, message="Order placed successfully", order=placed.order)


@bp.route("/orders/my", methods=["GET"])
def my_orders() -> Response:
    """The caller's own orders: any signed-in role (empty for those who never order)."""
    caller = require_user(headers(), approved=False)
    query = parse_query(request(), OrderListQuery)
    items, total = order_lists.my_orders(caller, query)
    return respond(count=len(items), orders=items, pagination=pagination(total, query.page, query.limit))


@bp.route("/pharmacy/orders", methods=["GET"])
def pharmacy_orders() -> Response:
    """The pharmacist's orders, newest first, by status."""
    owner = require_user(headers(), roles=(PHARMACIST,))
    query = parse_query(request(), OrderListQuery)
    items, total = order_lists.pharmacy_orders(owner, query)
    return respond(count=len(items), orders=items, pagination=pagination(total, query.page, query.limit))


@bp.route("/pharmacy/report", methods=["GET"])
def report() -> Response:
    """The pharmacy's sales report between two dates (pharmacist)."""
    owner = require_user(headers(), roles=(PHARMACIST,))
    return respond(report=reports.pharmacy_report(owner, parse_query(request(), ReportQuery)))


@bp.route("/order/{order_id}", methods=["GET"])
def read(order_id: str) -> Response:
    """One order (its customer, its pharmacy or an admin)."""
    caller = require_user(headers(), roles=(PATIENT, PHARMACIST, ADMIN))
    return respond(order=order_lists.read(caller, order_id))


@bp.route("/order/{order_id}/status", methods=["PUT"])
def change_status(order_id: str) -> Response:
    """Move an order along (its pharmacy): confirmed, preparing, ready, dispatched, delivered."""
    owner = require_user(headers(), roles=(PHARMACIST,))
    order = fulfilment.change_status(owner, order_id, parse_body(request(), StatusIn))
    return respond(message="Order status updated successfully", order=order)


@bp.route("/order/{order_id}/cancel", methods=["PUT"])
def cancel(order_id: str) -> Response:
    """Cancel an order while it is pending or confirmed (its customer); the pharmacy is told."""
    customer = require_user(headers(), roles=(PATIENT,))
    order = cancellation.cancel(customer, order_id, parse_body(request(), CancelIn))
    return respond(message="Order cancelled successfully", order=order)


@bp.route("/order/{order_id}/rate", methods=["PUT"])
def rate(order_id: str) -> Response:
    """Rate a delivered order's pharmacy (its customer, once)."""
    customer = require_user(headers(), roles=(PATIENT,))
    order = rating.rate(customer, order_id, parse_body(request(), RateIn))
    return respond(message="Order rated successfully", order=order)
