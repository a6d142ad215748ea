"""A doctor's `consultationFee` at the API boundary: clients send and read it in major units of
the doctor's `currency` (INR: rupees, at most 2 places); the database keeps integer minor units,
which is what the payments domain charges (it reads the stored value). Every conversion is
`core.money`'s; this module only decides which currency applies.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from functions.core.config import get_settings
from functions.core.errors import ValidationFailed
from functions.core.money import to_major, to_minor

FIELD = "consultationFee"


def currency_of(doctor: Mapping[str, Any]) -> str:
    return str(doctor.get("currency") or get_settings().default_currency)


def fee_to_minor(fee: Decimal, body_currency: str | None, stored_currency: str | None) -> int:
    """The fee of a request body in minor units: in the currency the same body sets, else the
    doctor's stored one, else the default. Too many decimal places for it is a 400 naming the field."""
    currency = body_currency or stored_currency or get_settings().default_currency
    try:
        return to_minor(fee, currency)
    except ValueError as exc:
        raise ValidationFailed(f"{FIELD}: {exc}", errors=[{"field": FIELD, "message": str(exc)}]) from None


def fee_to_api(doctor: Mapping[str, Any]) -> Decimal | None:
    """The stored fee as clients read it (None when the doctor set none)."""
    fee = doctor.get(FIELD)
    return None if fee is None else to_major(fee, currency_of(doctor))


def with_api_fee(view: dict[str, Any], doctor: Mapping[str, Any]) -> dict[str, Any]:
    """`view` (a doctor's fields) with the fee in major units, where it carries one."""
    if FIELD in view:
        view[FIELD] = fee_to_api(doctor)
    return view
