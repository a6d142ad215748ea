"""Placing an order.

Its steps, each undone when a later one fails: the customer's hold, atomic stock per item (whose
write answers the price), the prescription check, the per-day number, the Idempotency-Key. Round
trips (the guard's user read included): n + 6 for n items (user, pharmacy, hold, n takes, number,
insert, the effects' record; issue 20).

Placing an order is a sequence of single-document atomic writes (no multi-document
transactions on the embedded engine): claim the idempotency key, reserve the prescription,
take each item's stock, number the order, insert it. A failing step undoes the earlier ones
explicitly, on any exception, so a refused order leaves stock, prescription and key as they were
(D-24: stock was checked then decremented separately and never given back when a later step
failed). Each step is named with its undo (`core.compensation`); the takes and the reservation
are recorded in their own writes, so the repair sweep gives back what a Lambda that died between
steps left (`sweep.repair_takes`). The key's claim is `core.idempotency`'s (scope "order").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bson import ObjectId

from functions.core import clock, idempotency, metrics, outbox
from functions.core.compensation import Compensations
from functions.core.config import get_settings
from functions.core.errors import Code, Conflict, NotFound, Unprocessable
from functions.core.metrics import Metric
from functions.core.security import Principal
from functions.pharmacy import effects, notifications, order_rules, order_views
from functions.pharmacy.order_rules import Line
from functions.pharmacy.order_schemas import OrderIn
from functions.pharmacy.status import ONLINE, PENDING, UNPAID
from functions.pharmacy.stores import medicines, order_counters, order_holds, orders, pharmacies

SCOPE = "order"  # the Idempotency-Key scope of placing an order


@dataclass(frozen=True)
class Placed:
    order: dict[str, Any]
    replayed: bool


def place(customer: Principal, data: OrderIn, idempotency_key: str | None) -> Placed:
    now = clock.now()
    pharmacy = pharmacies.get_listed(ObjectId(data.pharmacyId))
    if pharmacy is None:  # unverified, suspended or inactive pharmacies take no orders (D-16)
        raise NotFound.of("Pharmacy")
    order_id = ObjectId()
    fingerprint = idempotency.fingerprint(data.model_dump(mode="json"))
    with Compensations("place order") as undo:
        if idempotency_key:
            key = idempotency_key
            undo.step("claim Idempotency-Key", lambda: idempotency.release(SCOPE, customer.id, key, order_id))
            earlier = idempotency.claim(SCOPE, customer.id, key, order_id, fingerprint, now)
            if earlier is not None:
                return _replay(idempotency.resource_of(earlier, fingerprint))
        order = _commit(undo, customer.id, pharmacy, data, order_id, now)
    metrics.count(Metric.ORDER_PLACED)
    _after_placing(order, pharmacy)
    return Placed(order_views.to_api(order, pharmacy), replayed=False)


def _after_placing(order: Mapping[str, Any], pharmacy: Mapping[str, Any]) -> None:
    """What the answer does not need, recorded in the outbox (one round trip; `effects`): report
    lines (re-made by the repair sweep when missing), the pharmacy's counter, the notice. Never
    fails the request."""
    outbox.record(effects.placed(order, notifications.notice(
        pharmacy["owner"], "New order", notifications.with_link(
            f"New order {order['orderNumber']} is waiting for you.", notifications.PHARMACY_ORDERS),
        {"type": "order_placed", "orderId": str(order["_id"]), "orderNumber": order["orderNumber"]},
        kind="order_placed", ref=order["_id"], sender=order["customer"])))


def _line(doc: Mapping[str, Any], quantity: int) -> Line:
    """An order line priced from the medicine as its take found it."""
    images = doc.get("images") or []
    return Line(medicine=doc["_id"], name=str(doc["name"]), generic_name=doc.get("genericName"),
                strength=doc.get("strength"), manufacturer=doc.get("manufacturer"),
                image=images[0] if images else None, quantity=quantity, price=int(doc["price"]), mrp=int(doc["mrp"]),
                discount=int(doc.get("discount", 0)), prescription_required=bool(doc.get("prescriptionRequired")))


def _refusal(pharmacy_id: ObjectId, medicine_id: ObjectId, now: datetime) -> Exception:
    """Why a take found nothing (read only then): the item must be this pharmacy's, active and
    unexpired (D-40: items of other pharmacies, inactive and expired medicines could be ordered),
    else its stock ran short."""
    doc = next(iter(medicines.for_pharmacy(pharmacy_id, [medicine_id])), None)
    if doc is None or not doc.get("isActive", True):
        return Unprocessable(f"Medicine {medicine_id} is not sold by this pharmacy", code=Code.ITEM_UNAVAILABLE)
    if doc["expiryDate"] <= now:
        return Unprocessable(f"{doc['name']} has expired", code=Code.ITEM_EXPIRED)
    return Conflict(f"Insufficient stock for {doc['name']}", code=Code.OUT_OF_STOCK)


def _rx_lines(lines: Sequence[Line]) -> list[Any]:
    from functions.prescriptions.api import RxLine

    return [RxLine(name=line.name, generic_name=line.generic_name, strength=line.strength, quantity=line.quantity)
            for line in lines if line.prescription_required]


def _replay(order_id: ObjectId) -> Placed:
    order = orders.get(order_id)
    if order is None:
        raise Conflict("An order with this Idempotency-Key is still being placed", code=Code.REQUEST_IN_PROGRESS)
    pharmacy = pharmacies.get(order["pharmacy"])
    return Placed(order_views.to_api(order, pharmacy), replayed=True)


def _commit(undo: Compensations, customer_id: ObjectId, pharmacy: Mapping[str, Any], data: OrderIn,
            order_id: ObjectId, now: datetime) -> dict[str, Any]:
    """Hold for the customer, take each item's stock (each take answers the medicine it took
    from, which prices the line: no read before), reserve the prescription, number and insert the
    order: each step's undo declared before its write (a write whose reply was lost may have
    applied), each undo exact and at most once (by the order's record in the medicine and the
    prescription). A refusal found by a later step (an item that needs a prescription) undoes the
    takes before it, like any other failure."""
    from functions.prescriptions import api as prescriptions

    wanted = [(ObjectId(item.medicine), item.quantity) for item in data.items]
    _hold(undo, customer_id, pharmacy["_id"], wanted, order_id, now)
    lines = []
    for medicine_id, quantity in wanted:
        undo.step(f"take {medicine_id}", _give_back(medicine_id, order_id, quantity))
        taken = medicines.take(pharmacy["_id"], medicine_id, quantity, order_id, now)
        if taken is None:
            raise _refusal(pharmacy["_id"], medicine_id, now)
        lines.append(_line(taken, quantity))
    rx_lines = _rx_lines(lines)
    if rx_lines:
        if not data.prescriptionId:
            raise Unprocessable("Some items need a prescription: add prescriptionId", code=Code.PRESCRIPTION_REQUIRED)
        rx_id = data.prescriptionId
        undo.step("reserve prescription", lambda: prescriptions.release_for_order(rx_id, order_id))
        prescriptions.reserve_for_order(rx_id, customer_id, pharmacy["owner"], rx_lines, order_id)
    order = _new_order(customer_id, pharmacy, data, lines, order_id, now)
    undo.step("insert order", lambda: orders.delete(order_id))
    orders.insert(order)
    return order


def held_units(items: Sequence[Any]) -> dict[ObjectId, int]:
    """Units per medicine of an order's lines (or stored items): what its hold holds."""
    units: dict[ObjectId, int] = {}
    for item in items:
        line = isinstance(item, Line)
        medicine, qty = (item.medicine, item.quantity) if line else (item["medicine"], item["quantity"])
        units[medicine] = units.get(medicine, 0) + int(qty)
    return units


def release_hold(order: Mapping[str, Any]) -> bool:
    """The order is no longer open (cancelled or delivered): its hold goes back, at most once."""
    return order_holds.release(order["customer"], order["pharmacy"], order["_id"], held_units(order["items"]))


def _hold(undo: Compensations, customer_id: ObjectId, pharmacy_id: ObjectId, wanted: Sequence[tuple[ObjectId, int]],
          order_id: ObjectId, now: datetime) -> None:
    """Stock hoarding (issue 21): at most `MAX_OPEN_ORDERS_PER_CUSTOMER` open orders at this
    pharmacy and `MAX_UNITS_PER_MEDICINE_PER_CUSTOMER` units of each medicine across them, decided
    by the one conditional write of the hold (released when the order is cancelled or delivered)."""
    settings, units = get_settings(), held_units([{"medicine": m, "quantity": q} for m, q in wanted])
    undo.step("hold for the customer", lambda: order_holds.release(customer_id, pharmacy_id, order_id, units))
    if not order_holds.take(customer_id, pharmacy_id, order_id, units, settings.max_open_orders_per_customer,
                            settings.max_units_per_medicine_per_customer, now):
        raise Conflict(f"You may hold at most {settings.max_open_orders_per_customer} open orders at this pharmacy "
                       f"and {settings.max_units_per_medicine_per_customer} units of a medicine across them",
                       code=Code.ORDER_LIMIT)


def _give_back(medicine: ObjectId, order_id: ObjectId, qty: int) -> Callable[[], bool]:
    return lambda: medicines.give_back_take(medicine, order_id, qty)


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
        "takesRecorded": True,  # its stock takes and reservation are recorded (given back at most once)
        "awaitingPayment": online,
        "createdAt": now,
        "updatedAt": now,
    }


def report_lines(order: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [{"order": order["_id"], "pharmacy": order["pharmacy"], "localDay": order["localDay"],
             "medicine": item["medicine"], "name": item["name"], "manufacturer": item.get("manufacturer"),
             "quantity": item["quantity"], "lineTotal": item["lineTotal"], "live": True}
            for item in order["items"]]
