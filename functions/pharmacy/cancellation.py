"""Cancelling an order, and the effects of the one cancellation that wins.

Cancelling an order: by the customer while it is pending or confirmed, or by the system when
an online order's payment is cancelled or its hold expires; and the effects of the one winning
cancellation (stock and prescription back, report lines retired, a paid order refunded).

Stock goes back exactly once: only the one write that moves the order out of its status
restocks, so a concurrent cancel by the pharmacy (or a second click) finds nothing to do; and each
give-back is conditional on the take's record in the medicine (and the reservation's in the
prescription), so when a give-back fails after the cancel, the repair sweep finishes it, once.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from bson import ObjectId

from functions.core import clock, metrics, outbox
from functions.core.config import get_settings
from functions.core.db import object_id
from functions.core.errors import Code, Conflict, NotFound
from functions.core.metrics import Metric
from functions.core.observability import logger
from functions.core.security import Principal
from functions.pharmacy import effects, notifications, order_payment, order_views, transitions
from functions.pharmacy.api import REFUNDS
from functions.pharmacy.order_schemas import CancelIn
from functions.pharmacy.status import CANCELLED, CUSTOMER_CANCELLABLE, PENDING, paid_online
from functions.pharmacy.stores import medicines, order_lines, orders, pharmacies


def cancel(customer: Principal, order_id: str, data: CancelIn) -> dict[str, Any]:
    """The customer cancels while the order is pending or confirmed; the pharmacy is told. The
    conditional write decides (the order is read only when it misses, to say why); then the
    pharmacy, for the answer."""
    target_id = object_id(order_id, "Order")
    note = f"Cancelled by customer: {data.reason}" if data.reason else "Cancelled by customer"
    updated = transitions.move(
        {"_id": target_id, "customer": customer.id, "orderStatus": {"$in": list(CUSTOMER_CANCELLABLE)}},
        CANCELLED, reason=data.reason, note=note, by="customer", now=clock.now())
    if updated is None:
        order = orders.get(target_id)
        if order is None or order["customer"] != customer.id:
            raise NotFound.of("Order")
        if order["orderStatus"] not in CUSTOMER_CANCELLABLE:
            raise Conflict("Order cannot be cancelled at this stage", code=Code.ILLEGAL_TRANSITION)
        raise transitions.lost(str(order["orderStatus"]), CANCELLED)
    metrics.count(Metric.ORDER_CANCELLED)
    pharmacy = _pharmacy_after(updated)
    notice = None if pharmacy is None else notifications.notice(
        pharmacy["owner"], "Order cancelled", notifications.with_link(
            f"Order {updated['orderNumber']} was cancelled.", notifications.PHARMACY_ORDERS),
        {"type": "order_status", "orderId": str(target_id), "status": CANCELLED},
        kind="order_status", ref=target_id, sender=customer.id)
    # the give-backs and the notice leave the request path (the repair sweep finishes lost give-backs)
    outbox.record(effects.changed(updated, notice, give_back=effects.CANCEL, reason="cancelled by the customer"))
    return order_views.to_api(updated, pharmacy)


def _pharmacy_after(order: Mapping[str, Any]) -> dict[str, Any] | None:
    """The order's pharmacy for the answer, read after the cancel stood: a failure is logged and
    the answer names the pharmacy by its id only (nothing after the write fails the answer)."""
    try:
        return pharmacies.get(order["pharmacy"])
    except Exception as exc:
        logger.warning("order cancelled, its pharmacy not read for the answer", extra={"error": type(exc).__name__})
        return None


def system_cancel(order_id: ObjectId, reason: str, now: datetime, *, awaiting_payment: bool = True) -> bool:
    """Cancel an order still pending: an unpaid online one (payment cancelled, or its hold
    expired), or, with `awaiting_payment=False`, any order the pharmacy has not confirmed in time."""
    query: dict[str, Any] = {"_id": order_id, "orderStatus": PENDING}
    if awaiting_payment:
        query["awaitingPayment"] = True
    updated = transitions.move(query, CANCELLED, reason=reason, note=reason, by="system", now=now)
    if updated is None:
        return False
    metrics.count(Metric.ORDER_CANCELLED)
    after_cancel(updated, reason)
    notifications.tell(updated["customer"], "Order cancelled", notifications.with_link(
                       f"Your order {updated['orderNumber']} was cancelled: {reason}.", notifications.CUSTOMER_ORDERS),
                       {"type": "order_status", "orderId": str(order_id), "status": CANCELLED},
                       kind="order_status", ref=order_id)
    return True


NOT_CONFIRMED = "not confirmed in time"


def cancel_unconfirmed(now: datetime, batch: int) -> int:
    """Orders the pharmacy has not confirmed within `ORDER_CONFIRM_HOURS` are cancelled (their
    stock back once: only the write that wins the move out of `pending` restocks)."""
    cutoff = now - timedelta(hours=get_settings().order_confirm_hours)
    return sum(system_cancel(doc["_id"], NOT_CONFIRMED, now, awaiting_payment=False)
               for doc in orders.placed_before(PENDING, cutoff, batch))


def after_cancel(order: Mapping[str, Any], reason: str) -> None:
    """Effects of the one winning cancellation: report lines retired, stock and prescription
    back, a paid online order refunded (through the payments domain). The cancel stands once its
    write won: a give-back that fails is logged and left to the repair sweep, which finds the
    take (or reservation) of a cancelled order and gives it back, once."""
    release_hold(order)
    if order.get("takesRecorded"):
        try:
            _give_back(order, legacy=False)
        except Exception as exc:  # the records stay: `repair.repair` finishes it
            logger.error("order cancelled, its give-back is left to the repair sweep",
                         extra={"order": str(order["_id"]), "error": type(exc).__name__})
    else:  # placed before takes were recorded: the winning cancel alone gets here
        _give_back(order, legacy=True)
    if paid_online(order["paymentInfo"]):
        _refund(order["_id"], reason)


def release_hold(order: Mapping[str, Any]) -> None:
    """The customer's hold (open orders, units) goes back; a failure is left to the repair sweep."""
    from functions.pharmacy import placing

    try:
        placing.release_hold(order)
    except Exception as exc:
        logger.error("order closed, its hold is left to the repair sweep",
                     extra={"order": str(order["_id"]), "error": type(exc).__name__})


def _give_back(order: Mapping[str, Any], *, legacy: bool) -> None:
    order_lines.retire(order["_id"])  # first: while takes remain, the sweep retires them too
    for item in order["items"]:
        if legacy:
            medicines.give_back(item["medicine"], int(item["quantity"]))
        else:  # at most once: the take's record goes with the units
            medicines.give_back_take(item["medicine"], order["_id"], int(item["quantity"]))
    rx_items = [i for i in order["items"] if i.get("prescriptionRequired")]
    if order.get("prescription") and rx_items:
        from functions.prescriptions import api as prescriptions
        from functions.prescriptions.api import RxLine

        lines = [RxLine(name=i["name"], generic_name=i.get("genericName"), strength=i.get("strength"),
                        quantity=int(i["quantity"])) for i in rx_items] if legacy else None
        prescriptions.release_for_order(str(order["prescription"]), order["_id"], lines)


def _refund(order_id: ObjectId, reason: str) -> None:
    """Payments refunds the order in full (`api.REFUNDS`) and tells its outcome through `_told`."""
    REFUNDS(order_id, reason, _told)


def _told(kind: str, order_id: ObjectId, outcome: str, intent_id: str) -> None:
    order_payment.record_outcome(str(order_id), outcome, intent_id)


def cancel_for_closing(customer_id: ObjectId) -> int:
    """The customer's account closed (`POST /me/delete`): each order they may still cancel is
    cancelled by `cancel`, as theirs; one that moved on meanwhile is left (Conflict). The number
    this run cancelled; run again (the privacy sweep resumes a close-out), it finds what is left."""
    customer = Principal(user={"_id": customer_id, "role": "patient"}, claims={})
    found, _ = orders.page({"customer": customer_id, "orderStatus": {"$in": list(CUSTOMER_CANCELLABLE)}}, 0, 100)
    cancelled = 0
    for order in found:
        try:
            cancel(customer, str(order["_id"]), CancelIn(reason="account closed by the customer"))
            cancelled += 1
        except Conflict:  # confirmed to preparing, or cancelled by another run, meanwhile
            continue
    return cancelled
