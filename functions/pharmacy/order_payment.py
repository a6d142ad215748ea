"""An order's online payment as the payments domain sees it.

An order's online payment as the payments domain sees it: the amount payable, and each outcome
it reports (paid, failed, refunded) recorded on the order, idempotently.
"""

from __future__ import annotations

from bson import ObjectId

from functions.core import clock
from functions.core.config import get_settings
from functions.core.db import object_id
from functions.core.errors import NotFound
from functions.pharmacy.status import (
    CANCELLED,
    FAILED,
    ONLINE,
    PAID,
    PAYMENT_COMPLETED,
    PAYMENT_FAILED,
    PAYMENT_REFUNDED,
    REFUNDED,
    UNPAID,
    awaits_payment,
)
from functions.pharmacy.stores import orders


def payable_order(order_id: str, payer_id: ObjectId) -> tuple[int, str]:
    """Amount (minor units) and currency of the payer's unpaid online order; NotFound otherwise."""
    order = orders.get(object_id(order_id, "Order"))
    if order is None or order["customer"] != payer_id or not awaits_payment(order["paymentInfo"]) \
            or order["orderStatus"] == CANCELLED:
        raise NotFound.of("Order")
    return int(order["pricing"]["totalPrice"]), str(order["pricing"].get("currency") or get_settings().default_currency)


def record_outcome(order_id: str, outcome: str, payment_intent_id: str) -> bool:
    """A payment's outcome (`paid | failed | refunded`), idempotent. Returns False when the money
    arrived for an order that no longer wants it (cancelled, e.g. its hold expired), so the
    payments domain refunds it."""
    target = object_id(order_id, "Order")
    now = clock.now()
    online = {"_id": target, "paymentInfo.method": ONLINE}
    if outcome == PAID:
        paid = {"paymentInfo.status": PAYMENT_COMPLETED, "paymentInfo.transactionId": payment_intent_id,
                "paymentInfo.paidAt": now, "awaitingPayment": False, "updatedAt": now}
        if orders.update_where({**online, "orderStatus": {"$ne": CANCELLED},
                                "paymentInfo.status": {"$in": [UNPAID, PAYMENT_FAILED]}}, {**paid, "isRevenue": True}):
            return True
        order = orders.get(target)
        if order is None:
            return False
        if order["orderStatus"] == CANCELLED:
            orders.update_where({**online, "paymentInfo.status": {"$in": [UNPAID, PAYMENT_FAILED]}},
                                {**paid, "isRevenue": False})
            return False
        return True  # already recorded
    if outcome == FAILED:
        orders.update_where({**online, "paymentInfo.status": UNPAID},
                            {"paymentInfo.status": PAYMENT_FAILED, "paymentInfo.transactionId": payment_intent_id,
                             "updatedAt": now})
    elif outcome == REFUNDED:
        orders.update_where({**online, "paymentInfo.status": PAYMENT_COMPLETED},
                            {"paymentInfo.status": PAYMENT_REFUNDED, "paymentInfo.refundedAt": now,
                             "isRevenue": False, "updatedAt": now})
    return True
