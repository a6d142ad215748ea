"""An online order's payment hold.

An online order's payment hold: the order waits `PAYMENT_HOLD_MINUTES` for its payment, and is
cancelled (its stock given back) when payments reports the payment cancelled or the hold expires.
"""

from __future__ import annotations

from datetime import datetime

from functions.core import clock
from functions.core.db import object_id
from functions.pharmacy import cancellation, order_payment
from functions.pharmacy.status import CANCELED
from functions.pharmacy.stores import orders

SWEEP_BATCH = 100


def record_order_payment(order_id: str, status: str, payment_intent_id: str) -> bool:
    """A payment's outcome (`paid | failed | refunded | canceled`), idempotent. Returns False
    when the money arrived for an order that no longer wants it (cancelled, e.g. its hold
    expired), so the payments domain refunds it. A cancelled payment releases the hold."""
    if status == CANCELED:
        cancellation.system_cancel(object_id(order_id, "Order"), "Payment was cancelled", clock.now())
        return True
    return order_payment.record_outcome(order_id, status, payment_intent_id)


def release_expired(now: datetime) -> int:
    """Unpaid online orders whose hold expired are cancelled (a batch per sweep)."""
    return sum(cancellation.system_cancel(doc["_id"], "Payment not received in time", now)
               for doc in orders.expired_holds(now, SWEEP_BATCH))
