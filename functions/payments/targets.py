"""What a payment pays for, read from (and reported to) the domain that owns it.

Amounts and currencies always come from the database, never from the client: the doctor's
`consultationFee` for an appointment, the order total (the pharmacy's `payable_order` seam) for
an order. The owners are told the outcome through their own functions, which may be absent
while their issues are in flight; then the payment is kept here and nothing else happens.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bson import ObjectId

from functions.core import clock, users
from functions.core.config import get_settings
from functions.core.errors import Code, Conflict, NotFound, Unprocessable
from functions.core.observability import logger

# Appointment statuses in which the consultation can still be paid for ("pending_payment" is
# the slot hold of REQUIRE_APPOINTMENT_PAYMENT).
PAYABLE_APPOINTMENT = ("pending_payment", "pending", "confirmed")


@dataclass(frozen=True)
class Payable:
    amount: int  # minor units
    currency: str  # ISO 4217, upper case
    description: str
    starts_at: datetime | None = None  # an appointment's start (the sweeper's refund check uses it)


def _seam(module: str, name: str) -> Callable[..., Any] | None:
    """A function another domain provides, or None while it does not exist yet."""
    found = getattr(importlib.import_module(module), name, None)
    return found if callable(found) else None


# ---------------------------------------------------------------- appointments


def appointment_payable(appointment_id: ObjectId, payer_id: ObjectId) -> Payable:
    from functions.appointments import store as appointments

    appt = appointments.get(appointment_id)
    if appt is None or appt.get("patient") != payer_id:  # someone else's: as if it did not exist
        raise NotFound("Appointment not found")
    if appt.get("status") not in PAYABLE_APPOINTMENT or _aware(appt["start"]) <= clock.now():
        raise Conflict(f"An appointment that is {appt.get('status')} cannot be paid for", code=Code.NOT_PAYABLE)
    doctor = users.find_listed_doctor(appt["doctor"])
    if doctor is None:
        raise Conflict("This doctor is not taking payments", code=Code.NOT_PAYABLE)
    fee = doctor.get("consultationFee")
    if not isinstance(fee, int) or isinstance(fee, bool) or fee <= 0:
        raise Unprocessable("This consultation has no fee to pay", code=Code.NOTHING_TO_PAY)
    currency = str(doctor.get("currency") or get_settings().default_currency).upper()
    return Payable(fee, currency, "CureConnect consultation", _aware(appt["start"]))


def appointment_states(ids: Sequence[ObjectId]) -> dict[ObjectId, dict[str, Any]]:
    """Status, start and cancellation of these appointments (one `$in` read, read-only)."""
    from functions.core.db import get_db

    found = get_db()["appointments"].find({"_id": {"$in": list(ids)}}, {"status": 1, "start": 1, "cancellation": 1})
    return {doc["_id"]: doc for doc in found}


def appointment_refund_due(appt: Mapping[str, Any], cutoff_minutes: int) -> bool:
    """Full refund when the doctor or an admin cancelled, or the patient did before the cut-off;
    none after the cut-off, for a no-show or a held consultation."""
    if appt.get("status") != "cancelled":
        return False
    cancellation = appt.get("cancellation") or {}
    if cancellation.get("role") != "patient":
        return True
    at = cancellation.get("at")
    return isinstance(at, datetime) and _aware(at) <= _aware(appt["start"]) - timedelta(minutes=cutoff_minutes)


# ---------------------------------------------------------------- orders (the pharmacy's seam)


def order_payable(order_id: ObjectId, payer_id: ObjectId) -> Payable:
    payable_order = _seam("functions.pharmacy.service", "payable_order")
    if payable_order is None:
        raise NotFound("Order not found")
    amount, currency = payable_order(str(order_id), payer_id)
    if int(amount) <= 0:
        raise Unprocessable("This order has nothing to pay", code=Code.NOTHING_TO_PAY)
    return Payable(int(amount), str(currency).upper(), "CureConnect pharmacy order")


# ---------------------------------------------------------------- dispatch


def payable(kind: str, target_id: ObjectId, payer_id: ObjectId) -> Payable:
    if kind == "appointment":
        return appointment_payable(target_id, payer_id)
    return order_payable(target_id, payer_id)


def record(kind: str, target_id: ObjectId, status: str, intent_id: str) -> bool:
    """Tell the owner of the target the payment's outcome (`paid | failed | canceled |
    refunded`). False when the target no longer wants the money (cancelled, hold expired), so
    the caller refunds it."""
    if kind == "appointment":
        seam = _seam("functions.appointments.payment", "record_payment")
        args: tuple[Any, ...] = (target_id, status, intent_id)
    else:
        seam = _seam("functions.pharmacy.service", "record_order_payment")
        args = (str(target_id), status, intent_id)
    if seam is None:
        logger.info("payment outcome kept in payments only", extra={"kind": kind, "status": status})
        return True
    result = seam(*args)
    return result is not False


def _aware(value: datetime) -> datetime:
    from datetime import UTC

    return value if value.tzinfo else value.replace(tzinfo=UTC)
