"""Reading orders: lists and one order.

Reading orders: the customer's own, the pharmacy's, the admin list, and one order for those
who may see it (each page joined to its pharmacies and customers with one `$in` read each).
"""

from __future__ import annotations

from typing import Any

from functions.core import audit, users
from functions.core.db import object_id
from functions.core.errors import NotFound
from functions.core.security import ADMIN, PHARMACIST, Principal
from functions.pharmacy import order_views
from functions.pharmacy.order_schemas import OrderListQuery
from functions.pharmacy.order_views import PHARMACY_FIELDS
from functions.pharmacy.pharmacies import owned
from functions.pharmacy.status import NEXT
from functions.pharmacy.stores import orders, pharmacies


def _page_query(base: dict[str, Any], query: OrderListQuery) -> dict[str, Any]:
    if query.status and query.status != "all":
        return {**base, "orderStatus": query.status}
    return base


def my_orders(caller: Principal, query: OrderListQuery) -> tuple[list[dict[str, Any]], int]:
    """The caller's own orders, whatever their role (the frontend's "Order History" and admin
    "Orders" links call this too): only patients order, so others get an empty list."""
    items, total = orders.page(_page_query({"customer": caller.id}, query), query.skip, query.limit)
    shops = pharmacies.by_ids([o["pharmacy"] for o in items], PHARMACY_FIELDS)
    return [order_views.to_api(o, shops.get(o["pharmacy"])) for o in items], total


def pharmacy_orders(owner: Principal, query: OrderListQuery) -> tuple[list[dict[str, Any]], int]:
    pharmacy = owned(owner)
    items, total = orders.page(_page_query({"pharmacy": pharmacy["_id"]}, query), query.skip, query.limit)
    people = users.contacts([o["customer"] for o in items])
    return [order_views.to_api(o, pharmacy, people.get(o["customer"])) for o in items], total


def admin_orders(query: OrderListQuery) -> tuple[list[dict[str, Any]], int]:
    """Newest first. Without a status filter: one indexed read per status, merged (every
    query keeps a top-level equality)."""
    if query.status and query.status != "all":
        items, total = orders.page({"orderStatus": query.status}, query.skip, query.limit)
    else:
        merged: list[dict[str, Any]] = []
        total = 0
        for status in NEXT:
            part, count = orders.page({"orderStatus": status}, 0, query.skip + query.limit)
            merged.extend(part)
            total += count
        merged.sort(key=lambda o: o["_id"], reverse=True)
        items = merged[query.skip:query.skip + query.limit]
    shops = pharmacies.by_ids([o["pharmacy"] for o in items], PHARMACY_FIELDS)
    people = users.contacts([o["customer"] for o in items])
    return [order_views.to_admin_api(o, shops.get(o["pharmacy"]), people.get(o["customer"])) for o in items], total


def read(caller: Principal, order_id: str) -> dict[str, Any]:
    """The customer, the pharmacy's owner and admins; anyone else 404 (D-06: any user, doctor
    or admin could read any order, address and phone included). Reads by others are audited."""
    order = orders.get(object_id(order_id, "Order"))
    if order is None:
        raise NotFound.of("Order")
    pharmacy = pharmacies.get(order["pharmacy"])
    is_owner = caller.role == PHARMACIST and pharmacy is not None and pharmacy["owner"] == caller.id
    if order["customer"] != caller.id and not is_owner and caller.role != ADMIN:
        raise NotFound.of("Order")
    if order["customer"] != caller.id:
        audit.record(caller.user, "read", "order", order["_id"], subject_id=order["customer"])
    customer = users.contacts([order["customer"]]).get(order["customer"])
    return order_views.to_api(order, pharmacy, customer)
