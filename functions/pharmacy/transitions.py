"""How an order moves between statuses.

How an order moves between statuses: the fields a move sets with it, the one conditional write
that decides a race (the order still in a status it may leave), and the 409 explaining a lost race.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bson import ObjectId

from functions.core.errors import Code, Conflict
from functions.pharmacy.status import CANCELLED, COD, DELIVERED, PAYMENT_COMPLETED, UNPAID, counts_as_revenue
from functions.pharmacy.stores import orders


def changes(order: Mapping[str, Any], target: str, reason: str, now: datetime) -> dict[str, Any]:
    """What moving `order` to `target` sets besides its status: delivered cash is paid, a
    cancellation records its reason and ends the wait for a payment, and `isRevenue` follows."""
    out: dict[str, Any] = {"orderStatus": target, "updatedAt": now}
    payment_status = str(order["paymentInfo"].get("status", UNPAID))
    if target == DELIVERED:
        out["deliveredAt"] = now
        if order["paymentInfo"].get("method") == COD:  # cash is collected on delivery
            payment_status = PAYMENT_COMPLETED
            out.update({"paymentInfo.status": PAYMENT_COMPLETED, "paymentInfo.paidAt": now})
    if target == CANCELLED:
        out.update({"cancelledAt": now, "cancellationReason": reason, "awaitingPayment": False})
    out["isRevenue"] = counts_as_revenue(target, payment_status)
    return out


def move(query: dict[str, Any], order: Mapping[str, Any], target: str, *, reason: str, note: str, by: str,
         now: datetime) -> dict[str, Any] | None:
    """Move the order to `target` if it still matches `query` (its `_id` and the statuses it may
    leave), its history entry pushed in the same write: the document after, or None when another
    request moved it first."""
    entry = {"status": target, "timestamp": now, "note": note, "by": by}
    return orders.transition(query, changes(order, target, reason, now), entry)


def explain_miss(order_id: ObjectId, target: str) -> Conflict:
    """The 409 of a move that lost its race, naming the status the order is in now."""
    current = orders.get(order_id)
    status = current["orderStatus"] if current else "gone"
    return Conflict(f"The order is {status} now and cannot go to {target}", code=Code.ILLEGAL_TRANSITION)
