"""How an order moves between statuses.

How an order moves between statuses: the fields a move sets with it, the one conditional write
that decides a race (the order still in a status it may leave), and the 409 explaining a lost race.

A move is decided by its write alone where it can be (`blind_filter`): the filter states every
status the order may leave for the target (narrowed by delivery type, and for a confirmation by
the payment), so the order is read only when the write misses, to say why (issue 20: one round
trip fewer). Delivering needs the order first: the statuses it may leave depend on the delivery
type in a way one filter cannot state without `$or`, and cash is collected on delivery.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bson import ObjectId

from functions.core.errors import Code, Conflict
from functions.pharmacy.status import (
    CANCELLED,
    COD,
    CONFIRMED,
    DELIVERED,
    DELIVERY,
    PAYMENT_COMPLETED,
    PAYMENT_REFUNDED,
    PICKUP,
    UNPAID,
    counts_as_revenue,
    sources,
)
from functions.pharmacy.stores import orders


def changes(target: str, reason: str, now: datetime, payment: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """What moving an order to `target` sets besides its status: delivered cash is paid (so
    delivering needs the order's `payment`), a cancellation records its reason, ends the wait for
    a payment and is no revenue. Other moves leave `isRevenue` as the payment outcomes set it
    (paid: true, refunded: false), which is what `counts_as_revenue` says for them."""
    out: dict[str, Any] = {"orderStatus": target, "updatedAt": now}
    if target == DELIVERED:
        if payment is None:
            raise ValueError("delivering needs the order's payment")
        payment_status = str(payment.get("status", UNPAID))
        out["deliveredAt"] = now
        if payment.get("method") == COD:  # cash is collected on delivery
            payment_status = PAYMENT_COMPLETED
            out.update({"paymentInfo.status": PAYMENT_COMPLETED, "paymentInfo.paidAt": now})
        out["isRevenue"] = counts_as_revenue(target, payment_status)
    if target == CANCELLED:
        out.update({"cancelledAt": now, "cancellationReason": reason, "awaitingPayment": False, "isRevenue": False})
    return out


def blind_filter(order_id: ObjectId, target: str, scope: Mapping[str, Any]) -> dict[str, Any] | None:
    """The filter of a move to `target` decided without reading the order first, or None when
    the order must be read (delivering). `scope`: whose order it must be (`pharmacy`, `customer`).
    A confirmation also needs the order not to await its online payment (`awaits_payment`: an
    online order is confirmable once paid, never while unpaid, failed or refunded)."""
    by_type = {kind: sources(target, kind) for kind in (DELIVERY, PICKUP)}
    query: dict[str, Any] = {"_id": order_id, **scope,
                             "orderStatus": {"$in": sorted(set(by_type[DELIVERY]) | set(by_type[PICKUP]))}}
    if by_type[DELIVERY] != by_type[PICKUP]:
        allowing = [kind for kind, statuses in by_type.items() if statuses]
        if len(allowing) != 1:
            return None
        query["deliveryInfo.type"] = allowing[0]
    if target == CONFIRMED:
        query.update({"awaitingPayment": {"$ne": True}, "paymentInfo.status": {"$ne": PAYMENT_REFUNDED}})
    return query


def move(query: dict[str, Any], target: str, *, reason: str, note: str, by: str, now: datetime,
         payment: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
    """Move the order to `target` if it still matches `query` (its `_id` and the statuses it may
    leave), its history entry pushed in the same write: the document after, or None when another
    request moved it first (or, with a `blind_filter`, when it may not move)."""
    entry = {"status": target, "timestamp": now, "note": note, "by": by}
    return orders.transition(query, changes(target, reason, now, payment), entry)


def lost(status: str, target: str) -> Conflict:
    """The 409 of a move that lost its race, naming the status the order is in now."""
    return Conflict(f"The order is {status} now and cannot go to {target}", code=Code.ILLEGAL_TRANSITION)


def explain_miss(order_id: ObjectId, target: str) -> Conflict:
    """`lost`, the order read again to name its status."""
    current = orders.get(order_id)
    return lost(current["orderStatus"] if current else "gone", target)
