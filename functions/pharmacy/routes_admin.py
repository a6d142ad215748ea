"""Routes: administration of pharmacies and orders (admins only)."""

from chalice.app import Response

from functions.core.envelope import respond
from functions.core.paging import pagination
from functions.core.security import ADMIN, require_user
from functions.core.validation import parse_body, parse_query
from functions.pharmacy import order_lists, pharmacies, reports
from functions.pharmacy.blueprint import bp, headers, request
from functions.pharmacy.order_schemas import OrderListQuery
from functions.pharmacy.schemas import AdminPharmacyQuery, PharmacyStatusIn


@bp.route("/admin/pharmacies", methods=["GET"])
def list_pharmacies() -> Response:
    """List pharmacies by verification status (admin)."""
    require_user(headers(), roles=(ADMIN,))
    query = parse_query(request(), AdminPharmacyQuery)
    items, total = pharmacies.admin_list(query)
    return respond(count=len(items), pharmacies=items, pagination=pagination(total, query.page, query.limit))


@bp.route("/admin/pharmacy/{pharmacy_id}/status", methods=["PUT"])
def set_status(pharmacy_id: str) -> Response:
    """Verify, reject or suspend a pharmacy (admin)."""
    admin = require_user(headers(), roles=(ADMIN,))
    pharmacy = pharmacies.set_verification(admin, pharmacy_id, parse_body(request(), PharmacyStatusIn))
    return respond(message="Pharmacy status updated", pharmacy=pharmacy)


@bp.route("/admin/orders", methods=["GET"])
def list_orders() -> Response:
    """List every order, newest first, by status (admin)."""
    require_user(headers(), roles=(ADMIN,))
    query = parse_query(request(), OrderListQuery)
    items, total = order_lists.admin_orders(query)
    return respond(count=len(items), orders=items, pagination=pagination(total, query.page, query.limit))


@bp.route("/admin/order/{order_id}", methods=["GET"])
def read_order(order_id: str) -> Response:
    """One order with its items, pharmacy and customer (admin)."""
    admin = require_user(headers(), roles=(ADMIN,))
    return respond(order=order_lists.read(admin, order_id))


@bp.route("/admin/analytics", methods=["GET"])
def analytics() -> Response:
    """Platform figures for the admin: pharmacies, orders and revenue."""
    require_user(headers(), roles=(ADMIN,))
    return respond(analytics=reports.admin_analytics())
