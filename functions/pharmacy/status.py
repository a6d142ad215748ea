"""The pharmacy's statuses and the order status machine.

The pharmacy's statuses, the one place they are spelled: an order's status and the machine
between them, its payment's method and status, its delivery type, and a pharmacy's verification
and shop status. Pure rules (no I/O), unit-tested in tests/unit/test_order_rules.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, Literal

from functions.core.errors import Code, Conflict

# ---------------------------------------------------------------- an order's status and its machine

PENDING, CONFIRMED, PREPARING, READY = "pending", "confirmed", "preparing", "ready"
DISPATCHED, DELIVERED, CANCELLED = "dispatched", "delivered", "cancelled"
ORDER_STATUSES = (PENDING, CONFIRMED, PREPARING, READY, DISPATCHED, DELIVERED, CANCELLED)
OrderStatus = Literal["pending", "confirmed", "preparing", "ready", "dispatched", "delivered", "cancelled"]

# How an order reaches its customer: `ready -> dispatched` is for delivery, `ready -> delivered` for pickup.
DELIVERY: Final = "delivery"
PICKUP: Final = "pickup"
DeliveryType = Literal["delivery", "pickup"]

# D-25 (any status could go to any other, and cancelling restocked every time): the machine.
NEXT: dict[str, frozenset[str]] = {
    PENDING: frozenset({CONFIRMED, CANCELLED}),
    CONFIRMED: frozenset({PREPARING, CANCELLED}),
    PREPARING: frozenset({READY, CANCELLED}),
    READY: frozenset({DISPATCHED, DELIVERED, CANCELLED}),
    DISPATCHED: frozenset({DELIVERED}),
    DELIVERED: frozenset(),
    CANCELLED: frozenset(),
}
CUSTOMER_CANCELLABLE = (PENDING, CONFIRMED)


def allowed(current: str, target: str, delivery_type: str) -> bool:
    """`ready -> dispatched` only for delivery, `ready -> delivered` only for pickup."""
    if target not in NEXT.get(current, frozenset()):
        return False
    if current == READY and target == DISPATCHED:
        return delivery_type == DELIVERY
    if current == READY and target == DELIVERED:
        return delivery_type == PICKUP
    return True


def sources(target: str, delivery_type: str) -> list[str]:
    """Every status the order may leave for `target` (the filter of the conditional write)."""
    return [s for s in NEXT if allowed(s, target, delivery_type)]


def check_transition(current: str, target: str, delivery_type: str) -> None:
    if not allowed(current, target, delivery_type):
        raise Conflict(f"An order cannot go from {current} to {target}", code=Code.ILLEGAL_TRANSITION)


# ---------------------------------------------------------------- an order's payment

COD, ONLINE = "cod", "online"  # cash on delivery, or paid online through the payments domain
PaymentMethod = Literal["cod", "online"]
# `paymentInfo.status` (the reference's words: `completed` is paid)
UNPAID, PAYMENT_COMPLETED, PAYMENT_FAILED, PAYMENT_REFUNDED = "pending", "completed", "failed", "refunded"
# What payments reports about an order's payment (`api.record_order_payment`, payments' outcomes).
PAID, FAILED, REFUNDED, CANCELED = "paid", "failed", "refunded", "canceled"


def counts_as_revenue(status: str, payment_status: str) -> bool:
    """Delivered or paid, and neither cancelled nor refunded (D-18: revenue trusted a payment
    status the client set)."""
    if status == CANCELLED or payment_status == PAYMENT_REFUNDED:
        return False
    return status == DELIVERED or payment_status == PAYMENT_COMPLETED


def awaits_payment(payment: Mapping[str, Any]) -> bool:
    """An online order not paid yet (it may not be confirmed, and payments may still take it)."""
    return payment.get("method") == ONLINE and payment.get("status") != PAYMENT_COMPLETED


def paid_online(payment: Mapping[str, Any]) -> bool:
    """An online order whose money arrived (a cancellation refunds it)."""
    return payment.get("method") == ONLINE and payment.get("status") == PAYMENT_COMPLETED


# ---------------------------------------------------------------- a pharmacy

# `verificationStatus`, set by admins (`isVerified` follows it)
AWAITING_VERIFICATION, VERIFIED, REJECTED, SUSPENDED = "pending", "verified", "rejected", "suspended"
VERIFICATION_STATUSES = (AWAITING_VERIFICATION, VERIFIED, REJECTED, SUSPENDED)
VerificationStatus = Literal["pending", "verified", "rejected", "suspended"]
# `status`, set by the owner (an open or a closed shop)
ACTIVE, INACTIVE = "active", "inactive"
ShopStatus = Literal["active", "inactive"]


def is_listed(verification_status: str, status: str) -> bool:
    """Public and orderable: verified by an admin and open (the `listed` flag; D-16: verification
    was cosmetic)."""
    return verification_status == VERIFIED and status == ACTIVE
