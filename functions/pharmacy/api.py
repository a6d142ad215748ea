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

__all__ = ["REFUNDS", "cancel_open_orders", "close_for_owner", "erase_customer", "has_open_orders",
           "has_orders_in_progress", "orders_for_export", "payable_order", "pharmacy_has_open_orders",
           "record_order_payment"]

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


def has_orders_in_progress(customer_id: ObjectId) -> bool:
    """Has the customer an order the pharmacy is preparing or delivering (past the statuses the
    customer may cancel, before delivered)? One read, at most one document."""
    from functions.pharmacy.status import CANCELLED, CUSTOMER_CANCELLABLE, DELIVERED, ORDER_STATUSES
    from functions.pharmacy.stores import orders

    busy = [s for s in ORDER_STATUSES if s not in (*CUSTOMER_CANCELLABLE, CANCELLED, DELIVERED)]
    return bool(orders.page({"customer": customer_id, "orderStatus": {"$in": busy}}, 0, 1)[0])


def pharmacy_has_open_orders(owner_id: ObjectId) -> bool:
    """Has the pharmacy this pharmacist owns an order neither delivered nor cancelled? (Two reads.)"""
    from functions.pharmacy.status import CANCELLED, DELIVERED, ORDER_STATUSES
    from functions.pharmacy.stores import orders, pharmacies

    pharmacy = pharmacies.by_owner(owner_id)
    if pharmacy is None:
        return False
    open_statuses = [s for s in ORDER_STATUSES if s not in (CANCELLED, DELIVERED)]
    return bool(orders.page({"pharmacy": pharmacy["_id"], "orderStatus": {"$in": open_statuses}}, 0, 1)[0])


def close_for_owner(owner_id: ObjectId) -> bool:
    """The pharmacist's account closed: their shop closed and out of the catalogue (`pharmacies`)."""
    from functions.pharmacy import pharmacies

    return pharmacies.close_for_owner(owner_id)


def cancel_open_orders(customer_id: ObjectId) -> int:
    """The customer's account closed: each order they may still cancel (pending, confirmed) is
    cancelled as their own cancel does it (stock and prescription back, the pharmacy told, a paid
    one refunded). Idempotent; the number cancelled by this run."""
    from functions.pharmacy import cancellation

    return cancellation.cancel_for_closing(customer_id)


def erase_customer(customer_id: ObjectId) -> dict[str, int]:
    """The erase of a customer's account: each order keeps its lines, amounts and statuses and the
    customer's id (the pharmacy's books, the dispensing trail), not its address or notes; their
    hold documents (named by their id) are deleted once they hold no open order. Idempotent."""
    from functions.pharmacy.stores import order_holds, orders

    holds = sum(order_holds.delete_closed(customer_id, p) for p in orders.pharmacies_of(customer_id, 1000))
    return {"orders": orders.anonymise_customer(customer_id), "orderHolds": holds}
