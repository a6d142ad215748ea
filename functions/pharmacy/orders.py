"""Orders: placing one (prices from the database, atomic stock per item with compensation,
prescription check, per-day numbers, Idempotency-Key), reading, the status machine, customer
cancellation, rating, and the payment hold sweep.

Placing an order is a sequence of single-document atomic writes (no multi-document
transactions on the embedded engine): claim the idempotency key, reserve the prescription,
take each item's stock, number the order, insert it. A failing step undoes the earlier ones
explicitly, so a refused order leaves stock, prescription and key as they were (D-24: stock was
checked then decremented separately and never given back when a later step failed).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId

from functions.core import audit, clock, users
from functions.core.config import get_settings
from functions.core.db import object_id
from functions.core.errors import Code, Conflict, NotFound, Unprocessable
from functions.core.observability import logger
from functions.core.security import ADMIN, PHARMACIST
from functions.pharmacy import notifications, order_rules
from functions.pharmacy.api import REFUNDS
from functions.pharmacy.order_rules import CANCELLED, CONFIRMED, DELIVERED, PENDING, Line
from functions.pharmacy.order_schemas import CancelIn, OrderIn, OrderListQuery, RateIn, StatusIn
from functions.pharmacy.pharmacies import owned
from functions.pharmacy.stores import medicines, order_counters, order_lines, order_requests, orders, pharmacies

PHARMACY_FIELDS = {"name": 1, "contactInfo": 1, "address": 1, "owner": 1}
SWEEP_BATCH = 100
# Idempotency-Key claims of these many UTC days ago are dropped: a claim lives at least 48 hours
# (a client retries within minutes), and a missed sweep day is caught by the next one.
REQUEST_PURGE_DAYS = (2, 3)


@dataclass(frozen=True)
class Placed:
    order: dict[str, Any]
    replayed: bool


# ---------------------------------------------------------------- placing an order


def _lines(pharmacy: Mapping[str, Any], data: OrderIn, now: datetime) -> list[Line]:
    """Each item priced from the database; it must be this pharmacy's, active and unexpired
    (D-40: items of other pharmacies, inactive and expired medicines could be ordered)."""
    wanted = [(ObjectId(item.medicine), item.quantity) for item in data.items]
    found = {d["_id"]: d for d in medicines.for_pharmacy(pharmacy["_id"], [m for m, _ in wanted])}
    lines = []
    for medicine_id, quantity in wanted:
        doc = found.get(medicine_id)
        if doc is None or not doc.get("isActive", True):
            raise Unprocessable(f"Medicine {medicine_id} is not sold by this pharmacy", code=Code.ITEM_UNAVAILABLE)
        if doc["expiryDate"] <= now:
            raise Unprocessable(f"{doc['name']} has expired", code=Code.ITEM_EXPIRED)
        images = doc.get("images") or []
        lines.append(Line(
            medicine=medicine_id, name=str(doc["name"]), generic_name=doc.get("genericName"),
            strength=doc.get("strength"), manufacturer=doc.get("manufacturer"), image=images[0] if images else None,
            quantity=quantity, price=int(doc["price"]), mrp=int(doc["mrp"]), discount=int(doc.get("discount", 0)),
            prescription_required=bool(doc.get("prescriptionRequired"))))
    return lines


def _rx_lines(lines: Sequence[Line]) -> list[Any]:
    from functions.prescriptions.api import RxLine

    return [RxLine(name=line.name, generic_name=line.generic_name, strength=line.strength, quantity=line.quantity)
            for line in lines if line.prescription_required]


def _request_key(customer: ObjectId, key: str) -> str:
    return f"{customer}:{hashlib.sha256(key.encode()).hexdigest()[:40]}"


def place(user: Mapping[str, Any], data: OrderIn, idempotency_key: str | None) -> Placed:
    now = clock.now()
    pharmacy = pharmacies.get_listed(ObjectId(data.pharmacyId))
    if pharmacy is None:  # unverified, suspended or inactive pharmacies take no orders (D-16)
        raise NotFound("Pharmacy not found")
    lines = _lines(pharmacy, data, now)
    if any(line.prescription_required for line in lines) and not data.prescriptionId:
        raise Unprocessable("Some items need a prescription: add prescriptionId", code=Code.PRESCRIPTION_REQUIRED)
    order_id = ObjectId()
    request_key = None
    if idempotency_key:
        request_key = _request_key(user["_id"], idempotency_key)
        fingerprint = order_rules.fingerprint(data.model_dump(mode="json"))
        earlier = order_requests.claim(request_key, user["_id"], order_id, fingerprint, now)
        if earlier is not None:
            return _replay(earlier, fingerprint)
    try:
        order = _commit(user, pharmacy, data, lines, order_id, now)
    except BaseException:
        if request_key:
            order_requests.release(request_key, order_id)
        raise
    pharmacies.increment(pharmacy["_id"], {"totalOrders": 1})
    notifications.tell(pharmacy["owner"], "New order", notifications.with_link(
                       f"New order {order['orderNumber']} is waiting for you.", notifications.PHARMACY_ORDERS),
                       {"type": "order_placed", "orderId": str(order_id), "orderNumber": order["orderNumber"]},
                       kind="order_placed", ref=order_id)
    return Placed(order_rules.to_api(order, pharmacy), replayed=False)


def _replay(earlier: Mapping[str, Any], fingerprint: str) -> Placed:
    if earlier.get("fingerprint") != fingerprint:
        raise Unprocessable("This Idempotency-Key was used for a different order", code=Code.IDEMPOTENCY_KEY_REUSED)
    order = orders.get(earlier["orderId"])
    if order is None:
        raise Conflict("An order with this Idempotency-Key is still being placed", code=Code.REQUEST_IN_PROGRESS)
    pharmacy = pharmacies.get(order["pharmacy"])
    return Placed(order_rules.to_api(order, pharmacy), replayed=True)


def _commit(user: Mapping[str, Any], pharmacy: Mapping[str, Any], data: OrderIn, lines: list[Line],
            order_id: ObjectId, now: datetime) -> dict[str, Any]:
    from functions.prescriptions import api as prescriptions

    rx_lines = _rx_lines(lines)
    reserved = False
    taken: list[Line] = []
    try:
        if rx_lines:
            assert data.prescriptionId is not None
            prescriptions.reserve_for_order(data.prescriptionId, user["_id"], pharmacy["owner"], rx_lines)
            reserved = True
        for line in lines:
            if not medicines.take(pharmacy["_id"], line.medicine, line.quantity,
                                  (line.image or {}).get("public_id") or None):
                raise Conflict(f"Insufficient stock for {line.name}", code=Code.OUT_OF_STOCK)
            taken.append(line)
        order = _new_order(user, pharmacy, data, lines, order_id, now)
        orders.insert(order)
    except BaseException:
        for line in taken:
            medicines.give_back(line.medicine, line.quantity)
        if reserved:
            assert data.prescriptionId is not None
            prescriptions.release_for_order(data.prescriptionId, rx_lines)
        raise
    try:
        order_lines.insert(_report_lines(order))
    except Exception as exc:  # the order stands; only its report lines are missing
        logger.error("order report lines not written", extra={"order": str(order_id), "error": type(exc).__name__})
    return order


def _new_order(user: Mapping[str, Any], pharmacy: Mapping[str, Any], data: OrderIn, lines: list[Line],
               order_id: ObjectId, now: datetime) -> dict[str, Any]:
    settings = get_settings()
    day = order_rules.local_day(now, settings.default_timezone)
    number = order_rules.order_number(day, order_counters.next_sequence(f"{day:%y%m%d}"))
    online = data.paymentInfo.method == "online"
    payment: dict[str, Any] = {"method": data.paymentInfo.method, "status": "pending"}
    if online:
        payment["holdExpiresAt"] = now + timedelta(minutes=settings.payment_hold_minutes)
    return {
        "_id": order_id,
        "orderNumber": number,
        "customer": user["_id"],
        "pharmacy": pharmacy["_id"],
        "items": [{"medicine": line.medicine, "name": line.name, "genericName": line.generic_name,
                   "strength": line.strength, "manufacturer": line.manufacturer, "image": line.image,
                   "quantity": line.quantity, "price": line.price, "mrp": line.mrp, "discount": line.discount,
                   "lineTotal": line.total, "prescriptionRequired": line.prescription_required} for line in lines],
        "shippingAddress": data.shippingAddress.model_dump() if data.shippingAddress else None,
        "paymentInfo": payment,
        "orderStatus": PENDING,
        "statusHistory": [{"status": PENDING, "timestamp": now, "note": "Order placed successfully"}],
        "pricing": order_rules.pricing(lines, data.deliveryInfo.type, pharmacy, settings.default_currency),
        "deliveryInfo": {"type": data.deliveryInfo.type},
        "specialInstructions": data.specialInstructions,
        "isUrgent": data.isUrgent,
        "prescription": ObjectId(data.prescriptionId) if data.prescriptionId else None,
        "localDay": day.isoformat(),
        "isRevenue": False,
        "awaitingPayment": online,
        "createdAt": now,
        "updatedAt": now,
    }


def _report_lines(order: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [{"order": order["_id"], "pharmacy": order["pharmacy"], "localDay": order["localDay"],
             "medicine": item["medicine"], "name": item["name"], "manufacturer": item.get("manufacturer"),
             "quantity": item["quantity"], "lineTotal": item["lineTotal"], "live": True}
            for item in order["items"]]


# ---------------------------------------------------------------- reading


def _page_query(base: dict[str, Any], query: OrderListQuery) -> dict[str, Any]:
    if query.status and query.status != "all":
        return {**base, "orderStatus": query.status}
    return base


def my_orders(user: Mapping[str, Any], query: OrderListQuery) -> tuple[list[dict[str, Any]], int]:
    """The caller's own orders, whatever their role (the frontend's "Order History" and admin
    "Orders" links call this too): only patients order, so others get an empty list."""
    items, total = orders.page(_page_query({"customer": user["_id"]}, query), query.skip, query.limit)
    shops = pharmacies.by_ids([o["pharmacy"] for o in items], PHARMACY_FIELDS)
    return [order_rules.to_api(o, shops.get(o["pharmacy"])) for o in items], total


def pharmacy_orders(user: Mapping[str, Any], query: OrderListQuery) -> tuple[list[dict[str, Any]], int]:
    pharmacy = owned(user)
    items, total = orders.page(_page_query({"pharmacy": pharmacy["_id"]}, query), query.skip, query.limit)
    people = users.contacts([o["customer"] for o in items])
    return [order_rules.to_api(o, pharmacy, people.get(o["customer"])) for o in items], total


def read(user: Mapping[str, Any], order_id: str) -> dict[str, Any]:
    """The customer, the pharmacy's owner and admins; anyone else 404 (D-06: any user, doctor
    or admin could read any order, address and phone included). Reads by others are audited."""
    order = orders.get(object_id(order_id, "Order"))
    if order is None:
        raise NotFound("Order not found")
    pharmacy = pharmacies.get(order["pharmacy"])
    is_owner = user.get("role") == PHARMACIST and pharmacy is not None and pharmacy["owner"] == user["_id"]
    if order["customer"] != user["_id"] and not is_owner and user.get("role") != ADMIN:
        raise NotFound("Order not found")
    if order["customer"] != user["_id"]:
        audit.record(user, "read", "order", order["_id"], subject_id=order["customer"])
    customer = users.contacts([order["customer"]]).get(order["customer"])
    return order_rules.to_api(order, pharmacy, customer)


# ---------------------------------------------------------------- status changes


def _explain_miss(order_id: ObjectId, target: str) -> Conflict:
    current = orders.get(order_id)
    status = current["orderStatus"] if current else "gone"
    return Conflict(f"The order is {status} now and cannot go to {target}", code=Code.ILLEGAL_TRANSITION)


def _changes(order: Mapping[str, Any], target: str, note: str, now: datetime) -> dict[str, Any]:
    changes: dict[str, Any] = {"orderStatus": target, "updatedAt": now}
    payment_status = str(order["paymentInfo"].get("status", "pending"))
    if target == DELIVERED:
        changes["deliveredAt"] = now
        if order["paymentInfo"].get("method") == "cod":  # cash is collected on delivery
            payment_status = "completed"
            changes.update({"paymentInfo.status": "completed", "paymentInfo.paidAt": now})
    if target == CANCELLED:
        changes.update({"cancelledAt": now, "cancellationReason": note, "awaitingPayment": False})
    changes["isRevenue"] = order_rules.counts_as_revenue(target, payment_status)
    return changes


def change_status(user: Mapping[str, Any], order_id: str, data: StatusIn) -> dict[str, Any]:
    """The pharmacy owner moves the order along the machine; anything else is 409."""
    pharmacy = owned(user)
    target_id = object_id(order_id, "Order")
    order = orders.get(target_id)
    if order is None or order["pharmacy"] != pharmacy["_id"]:
        raise NotFound("Order not found")
    current = str(order["orderStatus"])
    order_rules.check_transition(current, data.status, order["deliveryInfo"]["type"])
    if data.status == CONFIRMED and order["paymentInfo"]["method"] == "online" \
            and order["paymentInfo"].get("status") != "completed":
        raise Conflict("This order waits for its online payment", code=Code.PAYMENT_PENDING)
    now = clock.now()
    entry = {"status": data.status, "timestamp": now, "note": data.note, "by": "pharmacy"}
    updated = orders.transition({"_id": target_id, "pharmacy": pharmacy["_id"], "orderStatus": current},
                                _changes(order, data.status, data.note, now), entry)
    if updated is None:
        raise _explain_miss(target_id, data.status)
    if data.status == CANCELLED:
        _after_cancel(updated, f"cancelled by the pharmacy: {data.note}".strip(": "))
    notifications.tell(updated["customer"], "Order update", notifications.with_link(
                       f"Your order {updated['orderNumber']} is now {data.status}.", notifications.CUSTOMER_ORDERS),
                       {"type": "order_status", "orderId": str(target_id), "status": data.status},
                       kind="order_status", ref=target_id)
    return order_rules.to_api(updated, pharmacy)


def cancel(user: Mapping[str, Any], order_id: str, data: CancelIn) -> dict[str, Any]:
    """The customer cancels while the order is pending or confirmed. Stock goes back exactly
    once: only the one write that moves the order out of those statuses restocks, so a
    concurrent pharmacy cancel (or a second click) finds nothing to do."""
    target_id = object_id(order_id, "Order")
    order = orders.get(target_id)
    if order is None or order["customer"] != user["_id"]:
        raise NotFound("Order not found")
    if order["orderStatus"] not in order_rules.CUSTOMER_CANCELLABLE:
        raise Conflict("Order cannot be cancelled at this stage", code=Code.ILLEGAL_TRANSITION)
    now = clock.now()
    note = f"Cancelled by customer: {data.reason}" if data.reason else "Cancelled by customer"
    entry = {"status": CANCELLED, "timestamp": now, "note": note, "by": "customer"}
    changes = _changes(order, CANCELLED, data.reason, now)
    updated = orders.transition(
        {"_id": target_id, "customer": user["_id"], "orderStatus": {"$in": list(order_rules.CUSTOMER_CANCELLABLE)}},
        changes, entry)
    if updated is None:
        raise _explain_miss(target_id, CANCELLED)
    _after_cancel(updated, "cancelled by the customer")
    pharmacy = pharmacies.get(updated["pharmacy"])
    if pharmacy is not None:
        notifications.tell(pharmacy["owner"], "Order cancelled", notifications.with_link(
                           f"Order {updated['orderNumber']} was cancelled.", notifications.PHARMACY_ORDERS),
                           {"type": "order_status", "orderId": str(target_id), "status": CANCELLED},
                           kind="order_status", ref=target_id)
    return order_rules.to_api(updated, pharmacy)


def _after_cancel(order: Mapping[str, Any], reason: str) -> None:
    """Effects of the one winning cancellation: stock and prescription back, report lines
    retired, a paid online order refunded (through the payments domain)."""
    for item in order["items"]:
        medicines.give_back(item["medicine"], int(item["quantity"]))
    order_lines.retire(order["_id"])
    rx_items = [i for i in order["items"] if i.get("prescriptionRequired")]
    if order.get("prescription") and rx_items:
        from functions.prescriptions import api as prescriptions
        from functions.prescriptions.api import RxLine

        prescriptions.release_for_order(str(order["prescription"]), [
            RxLine(name=i["name"], generic_name=i.get("genericName"), strength=i.get("strength"),
                   quantity=int(i["quantity"])) for i in rx_items])
    if order["paymentInfo"].get("method") == "online" and order["paymentInfo"].get("status") == "completed":
        _refund(order["_id"], reason)


def _refund(order_id: ObjectId, reason: str) -> None:
    """Payments refunds the order in full (`api.REFUNDS`) and tells it through `_told`."""
    REFUNDS(order_id, reason, _told)


def _told(kind: str, order_id: ObjectId, status: str, intent_id: str) -> None:
    record_order_payment(str(order_id), status, intent_id)


def rate(user: Mapping[str, Any], order_id: str, data: RateIn) -> dict[str, Any]:
    """Once per delivered order; the pharmacy's rating is kept as atomic sums (D-41: it was
    recomputed by reading every rated order)."""
    target_id = object_id(order_id, "Order")
    now = clock.now()
    updated = orders.update_where(
        {"_id": target_id, "customer": user["_id"], "orderStatus": DELIVERED, "rating": {"$exists": False}},
        {"rating": data.rating, "review": data.review, "reviewedAt": now, "updatedAt": now})
    if updated is None:
        order = orders.get(target_id)
        if order is None or order["customer"] != user["_id"] or order["orderStatus"] != DELIVERED:
            raise NotFound("Order not found or not delivered")
        raise Conflict("Order already rated", code=Code.ALREADY_RATED)
    pharmacies.increment(updated["pharmacy"], {"ratingSum": data.rating, "totalReviews": 1})
    return order_rules.to_api(updated)


# ---------------------------------------------------------------- administration


def admin_orders(query: OrderListQuery) -> tuple[list[dict[str, Any]], int]:
    """Newest first. Without a status filter: one indexed read per status, merged (every
    query keeps a top-level equality)."""
    if query.status and query.status != "all":
        items, total = orders.page({"orderStatus": query.status}, query.skip, query.limit)
    else:
        merged: list[dict[str, Any]] = []
        total = 0
        for status in order_rules.NEXT:
            part, count = orders.page({"orderStatus": status}, 0, query.skip + query.limit)
            merged.extend(part)
            total += count
        merged.sort(key=lambda o: o["_id"], reverse=True)
        items = merged[query.skip:query.skip + query.limit]
    shops = pharmacies.by_ids([o["pharmacy"] for o in items], PHARMACY_FIELDS)
    people = users.contacts([o["customer"] for o in items])
    return [order_rules.to_admin_api(o, shops.get(o["pharmacy"]), people.get(o["customer"])) for o in items], total


# ---------------------------------------------------------------- payments (what payments calls through `api`)


def payable_order(order_id: str, payer_id: ObjectId) -> tuple[int, str]:
    """Amount (minor units) and currency of the payer's unpaid online order; NotFound otherwise."""
    order = orders.get(object_id(order_id, "Order"))
    if order is None or order["customer"] != payer_id or order["paymentInfo"].get("method") != "online" \
            or order["paymentInfo"].get("status") == "completed" or order["orderStatus"] == CANCELLED:
        raise NotFound("Order not found")
    return int(order["pricing"]["totalPrice"]), str(order["pricing"].get("currency") or get_settings().default_currency)


def record_order_payment(order_id: str, status: str, payment_intent_id: str) -> bool:
    """The payment's outcome (`paid | failed | refunded | canceled`), idempotent. Returns False
    when the money arrived for an order that no longer wants it (cancelled, e.g. its hold
    expired), so the payments domain refunds it."""
    target = object_id(order_id, "Order")
    now = clock.now()
    online = {"_id": target, "paymentInfo.method": "online"}
    if status == "paid":
        paid = {"paymentInfo.status": "completed", "paymentInfo.transactionId": payment_intent_id,
                "paymentInfo.paidAt": now, "awaitingPayment": False, "updatedAt": now}
        if orders.update_where({**online, "orderStatus": {"$ne": CANCELLED},
                                "paymentInfo.status": {"$in": ["pending", "failed"]}}, {**paid, "isRevenue": True}):
            return True
        order = orders.get(target)
        if order is None:
            return False
        if order["orderStatus"] == CANCELLED:
            orders.update_where({**online, "paymentInfo.status": {"$in": ["pending", "failed"]}},
                                {**paid, "isRevenue": False})
            return False
        return True  # already recorded
    if status == "failed":
        orders.update_where({**online, "paymentInfo.status": "pending"},
                            {"paymentInfo.status": "failed", "paymentInfo.transactionId": payment_intent_id,
                             "updatedAt": now})
    elif status == "refunded":
        orders.update_where({**online, "paymentInfo.status": "completed"},
                            {"paymentInfo.status": "refunded", "paymentInfo.refundedAt": now, "isRevenue": False,
                             "updatedAt": now})
    elif status == "canceled":
        system_cancel(target, "Payment was cancelled", now)
    return True


def system_cancel(order_id: ObjectId, reason: str, now: datetime) -> bool:
    """Cancel an unpaid online order still pending (payment cancelled, or its hold expired)."""
    order = orders.get(order_id)
    if order is None:
        return False
    entry = {"status": CANCELLED, "timestamp": now, "note": reason, "by": "system"}
    updated = orders.transition({"_id": order_id, "awaitingPayment": True, "orderStatus": PENDING},
                                _changes(order, CANCELLED, reason, now), entry)
    if updated is None:
        return False
    _after_cancel(updated, reason)
    notifications.tell(updated["customer"], "Order cancelled", notifications.with_link(
                       f"Your order {updated['orderNumber']} was cancelled: {reason}.", notifications.CUSTOMER_ORDERS),
                       {"type": "order_status", "orderId": str(order_id), "status": CANCELLED},
                       kind="order_status", ref=order_id)
    return True


def sweep(now: datetime | None = None) -> dict[str, int]:
    """Unpaid online orders whose payment hold expired give their stock back; Idempotency-Key
    claims of past days are dropped (by their indexed UTC `day`)."""
    now = now or clock.now()
    released = sum(system_cancel(doc["_id"], "Payment not received in time", now)
                   for doc in orders.expired_holds(now, SWEEP_BATCH))
    purged = sum(order_requests.purge_day(f"{(now - timedelta(days=d)).astimezone(UTC).date():%Y-%m-%d}")
                 for d in REQUEST_PURGE_DAYS)
    return {"expiredOrderHolds": released, "orderRequestsPurged": purged}
