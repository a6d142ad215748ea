"""Pure rules of orders (no I/O): the status machine, pricing, order numbers, what counts as
revenue, and the API shape. Unit-tested in tests/unit/test_order_rules.py.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from functions.core.config import get_settings
from functions.core.errors import Code, Conflict
from functions.core.money import to_major

PENDING, CONFIRMED, PREPARING, READY = "pending", "confirmed", "preparing", "ready"
DISPATCHED, DELIVERED, CANCELLED = "dispatched", "delivered", "cancelled"
DELIVERY, PICKUP = "delivery", "pickup"

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


# ---------------------------------------------------------------- pricing


@dataclass(frozen=True)
class Line:
    medicine: Any
    name: str
    generic_name: str | None
    strength: str | None
    manufacturer: str | None
    image: Mapping[str, Any] | None
    quantity: int
    price: int
    mrp: int
    discount: int
    prescription_required: bool

    @property
    def total(self) -> int:
        return self.price * self.quantity

    @property
    def saving(self) -> int:
        return max(0, self.mrp - self.price) * self.quantity


def delivery_charge(items_total: int, delivery_type: str, pharmacy: Mapping[str, Any]) -> int:
    """The pharmacy's own charge, waived for pickup and at or above its free-delivery threshold
    (D-40: hard-coded 50 under 500, ignoring the pharmacy's settings)."""
    if delivery_type == PICKUP:
        return 0
    free_above = pharmacy.get("freeDeliveryAbove")
    if free_above is not None and items_total >= int(free_above):
        return 0
    return int(pharmacy.get("deliveryCharges") or 0)


def pricing(lines: Sequence[Line], delivery_type: str, pharmacy: Mapping[str, Any], currency: str) -> dict[str, Any]:
    items_price = sum(line.total for line in lines)
    charge = delivery_charge(items_price, delivery_type, pharmacy)
    return {"itemsPrice": items_price, "discount": sum(line.saving for line in lines), "deliveryCharge": charge,
            "totalPrice": items_price + charge, "currency": currency}


# ---------------------------------------------------------------- numbers, days, revenue


def local_day(instant: datetime, timezone: str) -> date:
    return instant.astimezone(ZoneInfo(timezone)).date()


def order_number(day: date, sequence: int) -> str:
    """`ORD` + yyMMdd + at least four digits; the sequence has no upper bound (D-23: it broke
    after 9 999 a day)."""
    return f"ORD{day:%y%m%d}{sequence:04d}"


def counts_as_revenue(status: str, payment_status: str) -> bool:
    """Delivered or paid, and neither cancelled nor refunded (D-18: revenue trusted a payment
    status the client set)."""
    if status == CANCELLED or payment_status == "refunded":
        return False
    return status == DELIVERED or payment_status == "completed"


def fingerprint(payload: Any) -> str:
    """The identity of a request body, to refuse an Idempotency-Key reused for another order."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


# ---------------------------------------------------------------- API shape

INTERNAL = ("prescriptionLines", "isRevenue", "awaitingPayment", "idempotencyKey", "localDay")
ITEM_MONEY = ("price", "mrp", "lineTotal")  # an item's `discount` is a percentage
PRICING_MONEY = ("itemsPrice", "discount", "deliveryCharge", "totalPrice")


def currency_of(order: Mapping[str, Any]) -> str:
    """The currency the order was priced in (the default currency for an order without one)."""
    return str((order.get("pricing") or {}).get("currency") or get_settings().default_currency)


def _major(values: Mapping[str, Any], keys: Sequence[str], currency: str) -> dict[str, Any]:
    return {**values, **{k: to_major(values[k], currency) for k in keys if values.get(k) is not None}}


def _customer(customer: Mapping[str, Any], address: Mapping[str, Any] | None) -> dict[str, Any]:
    """Name, phone and e-mail, as the pharmacy's order list reads them: the account's contact of
    each kind, else the delivery address's phone."""
    contact, kind = customer.get("contact"), customer.get("contactType")
    phone = contact if kind == "phone" else (address or {}).get("phone")
    return {"_id": customer["_id"], "name": customer.get("name"), "phone": phone,
            "email": contact if kind == "email" else None}


def to_api(order: Mapping[str, Any], pharmacy: Mapping[str, Any] | None = None,
           customer: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The reference's keys; items show their medicine as `{_id, name, images}` (from the
    snapshot taken at ordering, so a later edit or soft delete does not change the order).
    Amounts are in major units of the order's currency (stored in minor units)."""
    currency = currency_of(order)
    out = {k: v for k, v in order.items() if k not in INTERNAL}
    out["items"] = [
        {**_major({k: v for k, v in item.items() if k not in ("medicine", "image")}, ITEM_MONEY, currency),
         "medicine": {"_id": item["medicine"], "name": item.get("name"),
                      "images": [item["image"]] if item.get("image") else []}}
        for item in order.get("items", [])
    ]
    if isinstance(order.get("pricing"), Mapping):
        out["pricing"] = _major(order["pricing"], PRICING_MONEY, currency)
    if pharmacy is not None:
        out["pharmacy"] = {"_id": pharmacy["_id"], "name": pharmacy.get("name"),
                           "contactInfo": pharmacy.get("contactInfo"), "address": pharmacy.get("address")}
    if customer is not None:
        out["customer"] = _customer(customer, order.get("shippingAddress"))
    return out


def to_admin_api(order: Mapping[str, Any], pharmacy: Mapping[str, Any] | None,
                 customer: Mapping[str, Any] | None) -> dict[str, Any]:
    """`to_api` plus the keys the existing admin Orders tab reads: `pharmacyId.name`,
    `userId.name`, `totalAmount` (major units) and `status`."""
    out = to_api(order, pharmacy, customer)
    out["pharmacyId"] = {"_id": order["pharmacy"], "name": pharmacy.get("name") if pharmacy else None}
    out["userId"] = {"_id": order["customer"], "name": customer.get("name") if customer else None}
    out["totalAmount"] = (out.get("pricing") or {}).get("totalPrice")
    out["status"] = order.get("orderStatus")
    return out
