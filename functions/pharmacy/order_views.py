"""An order as the API shows it.

An order as the API shows it (pure, no I/O): the reference's keys, amounts in major units,
the pharmacy and customer summaries, and the admin Orders tab's extra keys.
Unit-tested in tests/unit/test_order_rules.py.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from functions.core.config import get_settings
from functions.core.money import to_major

INTERNAL = ("prescriptionLines", "isRevenue", "awaitingPayment", "idempotencyKey", "localDay", "takesRecorded")
ITEM_MONEY = ("price", "mrp", "lineTotal")  # an item's `discount` is a percentage
PRICING_MONEY = ("itemsPrice", "discount", "deliveryCharge", "totalPrice")
# The pharmacy's fields an order list shows (one `$in` read for the page).
PHARMACY_FIELDS = {"name": 1, "contactInfo": 1, "address": 1, "owner": 1}


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
