"""Routes: administration of pharmacies and orders (admins only)."""

from chalice.app import Response

from functions.core.envelope import respond
from functions.core.errors import Code
from functions.core.openapi import describe
from functions.core.paging import pagination
from functions.core.security import ADMIN, require_user
from functions.core.validation import parse_body, parse_query
from functions.pharmacy import order_lists, pharmacies, reports
from functions.pharmacy.blueprint import bp, headers, request
from functions.pharmacy.order_schemas import OrderListQuery
from functions.pharmacy.out_schemas import (
    AdminOrderListAnswer,
    AdminPharmacyListAnswer,
    AnalyticsAnswer,
    OrderAnswer,
    PharmacySavedAnswer,
)
from functions.pharmacy.schemas import AdminPharmacyQuery, PharmacyStatusIn


@bp.route("/admin/pharmacies", methods=["GET"])
@describe(response=AdminPharmacyListAnswer, errors=(Code.VALIDATION_FAILED,))
def list_pharmacies() -> Response:
    """Admin: every pharmacy, newest first, filtered by verification status (the approval panel)."""
    require_user(headers(), roles=(ADMIN,))
    query = parse_query(request(), AdminPharmacyQuery)
    items, total = pharmacies.admin_list(query)
    return respond(count=len(items), pharmacies=items, pagination=pagination(total, query.page, query.limit))


@bp.route("/admin/pharmacy/{pharmacy_id}/status", methods=["PUT"])
@describe(response=PharmacySavedAnswer, errors=(Code.NOT_FOUND, Code.VALIDATION_FAILED))
def set_status(pharmacy_id: str) -> Response:
    """Admin: approve, reject or suspend a pharmacy; its medicines are listed or unlisted with it."""
    admin = require_user(headers(), roles=(ADMIN,))
    pharmacy = pharmacies.set_verification(admin, pharmacy_id, parse_body(request(), PharmacyStatusIn))
    return respond(message="Pharmacy status updated", pharmacy=pharmacy)


@bp.route("/admin/orders", methods=["GET"])
@describe(response=AdminOrderListAnswer, errors=(Code.VALIDATION_FAILED,))
def list_orders() -> Response:
    """Admin: every order, newest first, with the Orders tab's pharmacy, customer and total."""
    require_user(headers(), roles=(ADMIN,))
    query = parse_query(request(), OrderListQuery)
    items, total = order_lists.admin_orders(query)
    return respond(count=len(items), orders=items, pagination=pagination(total, query.page, query.limit))


@bp.route("/admin/order/{order_id}", methods=["GET"])
@describe(response=OrderAnswer, errors=(Code.NOT_FOUND,))
def read_order(order_id: str) -> Response:
    """Admin: one order with its pharmacy and customer (the read is audited)."""
    admin = require_user(headers(), roles=(ADMIN,))
    return respond(order=order_lists.read(admin, order_id))


@bp.route("/admin/analytics", methods=["GET"])
@describe(response=AnalyticsAnswer, errors=(Code.FORBIDDEN,))
def analytics() -> Response:
    """Admin: platform counts of pharmacies, orders, revenue, patients and medicines."""
    require_user(headers(), roles=(ADMIN,))
    return respond(analytics=reports.admin_analytics())
