"""Fulfilment: the pharmacy's owner moves an order along the status machine.

The pharmacy's owner moves an order along the status machine (confirm, prepare, ready,
dispatch, deliver, or cancel); the customer is told. Anything the machine refuses is a 409.
Round trips (the guard's user read included): the owner's pharmacy, the one conditional write
(`transitions.blind_filter`; delivering reads the order first), and the effects' one record;
the order is read only when the write misses, to say why.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bson import ObjectId

from functions.core import clock, metrics, outbox
from functions.core.db import object_id
from functions.core.errors import Code, Conflict, NotFound
from functions.core.metrics import Metric
from functions.core.security import Principal
from functions.pharmacy import effects, notifications, order_views, transitions
from functions.pharmacy.order_schemas import StatusIn
from functions.pharmacy.pharmacies import owned
from functions.pharmacy.status import CANCELLED, CONFIRMED, DELIVERED, awaits_payment, check_transition
from functions.pharmacy.stores import orders


def _order_of(order_id: ObjectId, pharmacy: Mapping[str, Any]) -> dict[str, Any]:
    order = orders.get(order_id)
    if order is None or order["pharmacy"] != pharmacy["_id"]:
        raise NotFound.of("Order")
    return order


def _check(order: Mapping[str, Any], target: str) -> None:
    """The 409 that says why `order` may not go to `target` (nothing when it may)."""
    check_transition(str(order["orderStatus"]), target, order["deliveryInfo"]["type"])
    if target == CONFIRMED and awaits_payment(order["paymentInfo"]):
        raise Conflict("This order waits for its online payment", code=Code.PAYMENT_PENDING)


def change_status(owner: Principal, order_id: str, data: StatusIn) -> dict[str, Any]:
    """The pharmacy owner moves the order along the machine; anything else is 409."""
    pharmacy = owned(owner)
    target_id = object_id(order_id, "Order")
    scope, now = {"pharmacy": pharmacy["_id"]}, clock.now()
    query = transitions.blind_filter(target_id, data.status, scope)
    payment = None
    if query is None:  # delivering: the order first (its delivery type and payment decide)
        order = _order_of(target_id, pharmacy)
        _check(order, data.status)
        query, payment = {"_id": target_id, **scope, "orderStatus": order["orderStatus"]}, order["paymentInfo"]
    updated = transitions.move(query, data.status, reason=data.note, note=data.note, by="pharmacy", now=now,
                               payment=payment)
    if updated is None:  # say why: not ours, not allowed from where it is, or moved meanwhile
        current = _order_of(target_id, pharmacy)
        _check(current, data.status)
        raise transitions.lost(str(current["orderStatus"]), data.status)
    give_back = {DELIVERED: effects.HOLD, CANCELLED: effects.CANCEL}.get(data.status)  # no longer open
    if data.status == CANCELLED:
        metrics.count(Metric.ORDER_CANCELLED)
    notice = notifications.notice(updated["customer"], "Order update", notifications.with_link(
        f"Your order {updated['orderNumber']} is now {data.status}.", notifications.CUSTOMER_ORDERS),
        {"type": "order_status", "orderId": str(target_id), "status": data.status},
        kind="order_status", ref=target_id, sender=pharmacy["_id"])
    outbox.record(effects.changed(updated, notice, give_back=give_back,
                                  reason=f"cancelled by the pharmacy: {data.note}".strip(": ")))
    return order_views.to_api(updated, pharmacy)
