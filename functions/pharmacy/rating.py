"""Rating a delivered order.

A customer rates a delivered order, once; the pharmacy's rating is kept as atomic sums (D-41:
it was recomputed by reading every rated order).
"""

from __future__ import annotations

from typing import Any

from functions.core import clock
from functions.core.db import object_id
from functions.core.errors import Code, Conflict, NotFound
from functions.core.security import Principal
from functions.pharmacy import order_views
from functions.pharmacy.order_schemas import RateIn
from functions.pharmacy.status import DELIVERED
from functions.pharmacy.stores import orders, pharmacies


def rate(customer: Principal, order_id: str, data: RateIn) -> dict[str, Any]:
    """Once per delivered order of the caller; 404 for any other order, 409 when already rated."""
    target_id = object_id(order_id, "Order")
    now = clock.now()
    updated = orders.update_where(
        {"_id": target_id, "customer": customer.id, "orderStatus": DELIVERED, "rating": {"$exists": False}},
        {"rating": data.rating, "review": data.review, "reviewedAt": now, "updatedAt": now})
    if updated is None:
        order = orders.get(target_id)
        if order is None or order["customer"] != customer.id or order["orderStatus"] != DELIVERED:
            raise NotFound("Order not found or not delivered")
        raise Conflict("Order already rated", code=Code.ALREADY_RATED)
    pharmacies.increment(updated["pharmacy"], {"ratingSum": data.rating, "totalReviews": 1})
    return order_views.to_api(updated)
