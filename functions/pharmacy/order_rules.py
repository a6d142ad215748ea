"""Pure rules of a new order: pricing, number, business day.

What a new order is made of, as pure rules (no I/O): its lines' prices and the delivery
charge, its number and business day, and the identity of the request that placed it.
Unit-tested in tests/unit/test_order_rules.py.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from functions.pharmacy.status import PICKUP


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


def local_day(instant: datetime, timezone: str) -> date:
    return instant.astimezone(ZoneInfo(timezone)).date()


def order_number(day: date, sequence: int) -> str:
    """`ORD` + yyMMdd + at least four digits; the sequence has no upper bound (D-23: it broke
    after 9 999 a day)."""
    return f"ORD{day:%y%m%d}{sequence:04d}"


def fingerprint(payload: Any) -> str:
    """The identity of a request body, to refuse an Idempotency-Key reused for another order."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()
