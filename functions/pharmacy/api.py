"""The pharmacy domain's public seam: the only module other domains import from it.

What payments asks of an order (`payable_order`) and tells it (`record_order_payment`), and the
`REFUNDS` port through which a cancelled paid order reaches payments' refund (payments imports
the pharmacy, so the pharmacy never imports payments: the composition root plugs the refund
in). Each function imports the use case it calls when it is called.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bson import ObjectId

from functions.core.ports import Port

__all__ = ["REFUNDS", "has_open_orders", "orders_for_export", "payable_order", "record_order_payment"]

# (kind, order id, outcome, intent id): how payments tells the pharmacy a refund went through.
Tell = Callable[[str, ObjectId, str, str], object]
# Payments' full refund of a paid order that was cancelled (`payments.api.order_cancelled`,
# plugged in by the composition root): the refund's status, or None when nothing was paid.
REFUNDS: Port[[ObjectId, str, Tell], str | None] = Port("pharmacy.REFUNDS")


def payable_order(order_id: str, payer_id: ObjectId) -> tuple[int, str]:
    """Amount (minor units) and currency of the payer's unpaid online order; NotFound otherwise."""
    from functions.pharmacy import order_payment

    return order_payment.payable_order(order_id, payer_id)


def record_order_payment(order_id: str, status: str, payment_intent_id: str) -> bool:
    """A payment's outcome (`paid | failed | refunded | canceled`), idempotent; False when the
    order no longer wants the money (payments then refunds it)."""
    from functions.pharmacy import payment_hold

    return payment_hold.record_order_payment(order_id, status, payment_intent_id)


def orders_for_export(customer_id: ObjectId, cap: int) -> list[dict[str, Any]]:
    """Up to `cap` of the customer's orders, newest first (one read): their data export."""
    from functions.pharmacy.stores import orders

    return orders.page({"customer": customer_id}, 0, cap)[0]


def has_open_orders(customer_id: ObjectId) -> bool:
    """Has the customer an order neither delivered nor cancelled? (One read, at most one document.)"""
    from functions.pharmacy.status import CANCELLED, DELIVERED, ORDER_STATUSES
    from functions.pharmacy.stores import orders

    open_statuses = [s for s in ORDER_STATUSES if s not in (CANCELLED, DELIVERED)]
    return bool(orders.page({"customer": customer_id, "orderStatus": {"$in": open_statuses}}, 0, 1)[0])
