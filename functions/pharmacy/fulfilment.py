"""Fulfilment: the pharmacy's owner moves an order along the status machine.

The pharmacy's owner moves an order along the status machine (confirm, prepare, ready,
dispatch, deliver, or cancel); the customer is told. Anything the machine refuses is a 409.
"""

from __future__ import annotations

from typing import Any

from functions.core import clock
from functions.core.db import object_id
from functions.core.errors import Code, Conflict, NotFound
from functions.core.security import Principal
from functions.pharmacy import cancellation, notifications, order_views, transitions
from functions.pharmacy.order_schemas import StatusIn
from functions.pharmacy.pharmacies import owned
from functions.pharmacy.status import CANCELLED, CONFIRMED, DELIVERED, awaits_payment, check_transition
from functions.pharmacy.stores import orders


def change_status(owner: Principal, order_id: str, data: StatusIn) -> dict[str, Any]:
    """The pharmacy owner moves the order along the machine; anything else is 409."""
    pharmacy = owned(owner)
    target_id = object_id(order_id, "Order")
    order = orders.get(target_id)
    if order is None or order["pharmacy"] != pharmacy["_id"]:
        raise NotFound.of("Order")
    current = str(order["orderStatus"])
    check_transition(current, data.status, order["deliveryInfo"]["type"])
    if data.status == CONFIRMED and awaits_payment(order["paymentInfo"]):
        raise Conflict("This order waits for its online payment", code=Code.PAYMENT_PENDING)
    updated = transitions.move({"_id": target_id, "pharmacy": pharmacy["_id"], "orderStatus": current}, order,
                               data.status, reason=data.note, note=data.note, by="pharmacy", now=clock.now())
    if updated is None:
        raise transitions.explain_miss(target_id, data.status)
    if data.status == DELIVERED:  # no longer open: the customer's hold goes back
        cancellation.release_hold(updated)
    if data.status == CANCELLED:
        cancellation.after_cancel(updated, f"cancelled by the pharmacy: {data.note}".strip(": "))
    notifications.tell(updated["customer"], "Order update", notifications.with_link(
                       f"Your order {updated['orderNumber']} is now {data.status}.", notifications.CUSTOMER_ORDERS),
                       {"type": "order_status", "orderId": str(target_id), "status": data.status},
                       kind="order_status", ref=target_id, sender=pharmacy["_id"])
    return order_views.to_api(updated, pharmacy)
