"""Placing an order.

Its steps, each undone when a later one fails: prices from the database, the
prescription check, atomic stock per item, the per-day number, the Idempotency-Key.

Placing an order is a sequence of single-document atomic writes (no multi-document
transactions on the embedded engine): claim the idempotency key, reserve the prescription,
take each item's stock, number the order, insert it. A failing step undoes the earlier ones
explicitly, on any exception, so a refused order leaves stock, prescription and key as they were
(D-24: stock was checked then decremented separately and never given back when a later step
failed). The claims of past days are dropped by the sweep (`purge_requests`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId

from functions.core import clock
from functions.core.config import get_settings
from functions.core.errors import Code, Conflict, NotFound, Unprocessable
from functions.core.observability import logger
from functions.core.security import Principal
from functions.pharmacy import notifications, order_rules, order_views
from functions.pharmacy.order_rules import Line
from functions.pharmacy.order_schemas import OrderIn
from functions.pharmacy.status import ONLINE, PENDING, UNPAID
from functions.pharmacy.stores import medicines, order_counters, order_lines, order_requests, orders, pharmacies

# Idempotency-Key claims of these many UTC days ago are dropped: a claim lives at least 48 hours
# (a client retries within minutes), and a missed sweep day is caught by the next one.
REQUEST_PURGE_DAYS = (2, 3)


@dataclass(frozen=True)
class Placed:
    order: dict[str, Any]
    replayed: bool


def place(customer: Principal, data: OrderIn, idempotency_key: str | None) -> Placed:
    now = clock.now()
    pharmacy = pharmacies.get_listed(ObjectId(data.pharmacyId))
    if pharmacy is None:  # unverified, suspended or inactive pharmacies take no orders (D-16)
        raise NotFound.of("Pharmacy")
    lines = _lines(pharmacy, data, now)
    if any(line.prescription_required for line in lines) and not data.prescriptionId:
        raise Unprocessable("Some items need a prescription: add prescriptionId", code=Code.PRESCRIPTION_REQUIRED)
    order_id = ObjectId()
    request_key = None
    if idempotency_key:
        request_key = _request_key(customer.id, idempotency_key)
        fingerprint = order_rules.fingerprint(data.model_dump(mode="json"))
        earlier = order_requests.claim(request_key, customer.id, order_id, fingerprint, now)
        if earlier is not None:
            return _replay(earlier, fingerprint)
    try:
        order = _commit(customer.id, pharmacy, data, lines, order_id, now)
    except BaseException:
        if request_key:
            order_requests.release(request_key, order_id)
        raise
    pharmacies.increment(pharmacy["_id"], {"totalOrders": 1})
    notifications.tell(pharmacy["owner"], "New order", notifications.with_link(
                       f"New order {order['orderNumber']} is waiting for you.", notifications.PHARMACY_ORDERS),
                       {"type": "order_placed", "orderId": str(order_id), "orderNumber": order["orderNumber"]},
                       kind="order_placed", ref=order_id)
    return Placed(order_views.to_api(order, pharmacy), replayed=False)


def purge_requests(now: datetime) -> int:
    """Drop the Idempotency-Key claims of past days (by their indexed UTC `day`)."""
    return sum(order_requests.purge_day(f"{(now - timedelta(days=d)).astimezone(UTC).date():%Y-%m-%d}")
               for d in REQUEST_PURGE_DAYS)


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


def _replay(earlier: Mapping[str, Any], fingerprint: str) -> Placed:
    if earlier.get("fingerprint") != fingerprint:
        raise Unprocessable("This Idempotency-Key was used for a different order", code=Code.IDEMPOTENCY_KEY_REUSED)
    order = orders.get(earlier["orderId"])
    if order is None:
        raise Conflict("An order with this Idempotency-Key is still being placed", code=Code.REQUEST_IN_PROGRESS)
    pharmacy = pharmacies.get(order["pharmacy"])
    return Placed(order_views.to_api(order, pharmacy), replayed=True)


def _commit(customer_id: ObjectId, pharmacy: Mapping[str, Any], data: OrderIn, lines: list[Line],
            order_id: ObjectId, now: datetime) -> dict[str, Any]:
    """Reserve the prescription, take each item's stock, number and insert the order; on any
    exception give back what was taken and release the prescription."""
    from functions.prescriptions import api as prescriptions

    rx_lines = _rx_lines(lines)
    reserved = False
    taken: list[Line] = []
    try:
        if rx_lines:
            assert data.prescriptionId is not None
            prescriptions.reserve_for_order(data.prescriptionId, customer_id, pharmacy["owner"], rx_lines)
            reserved = True
        for line in lines:
            if not medicines.take(pharmacy["_id"], line.medicine, line.quantity,
                                  (line.image or {}).get("public_id") or None):
                raise Conflict(f"Insufficient stock for {line.name}", code=Code.OUT_OF_STOCK)
            taken.append(line)
        order = _new_order(customer_id, pharmacy, data, lines, order_id, now)
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


def _new_order(customer_id: ObjectId, pharmacy: Mapping[str, Any], data: OrderIn, lines: list[Line],
               order_id: ObjectId, now: datetime) -> dict[str, Any]:
    settings = get_settings()
    day = order_rules.local_day(now, settings.default_timezone)
    number = order_rules.order_number(day, order_counters.next_sequence(f"{day:%y%m%d}"))
    online = data.paymentInfo.method == ONLINE
    payment: dict[str, Any] = {"method": data.paymentInfo.method, "status": UNPAID}
    if online:
        payment["holdExpiresAt"] = now + timedelta(minutes=settings.payment_hold_minutes)
    return {
        "_id": order_id,
        "orderNumber": number,
        "customer": customer_id,
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
