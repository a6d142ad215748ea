"""What a payment pays for, read from (and reported to) the domain that owns it.

Amounts and currencies always come from the database, never from the client: the doctor's
`consultationFee` for an appointment, the order total (the pharmacy's `payable_order`) for an
order. The owners are told the outcome through their seams (`appointments.api`, `pharmacy.api`).
Payments imports them, never the other way round: a cancelled appointment or order reaches the
refund through a port the composition root plugs in (`functions.registry.plug_ports`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId

from functions.appointments import api as appointments
from functions.core import clock, users
from functions.core.config import get_settings
from functions.core.errors import Code, Conflict, NotFound, Unprocessable
from functions.core.security import PATIENT
from functions.pharmacy import api as pharmacy

# What can be paid for (a payment's `kind`; `schemas.Kind` spells the same two for the API).
APPOINTMENT, ORDER = "appointment", "order"
KINDS = (APPOINTMENT, ORDER)
# Appointment statuses in which the consultation can still be paid for (`PENDING_PAYMENT` is
# the slot hold of REQUIRE_APPOINTMENT_PAYMENT).
PAYABLE_APPOINTMENT = (appointments.PENDING_PAYMENT, appointments.PENDING, appointments.CONFIRMED)


@dataclass(frozen=True)
class Payable:
    amount: int  # minor units
    currency: str  # ISO 4217, upper case
    description: str
    starts_at: datetime | None = None  # an appointment's start (the sweeper's refund check uses it)


# ---------------------------------------------------------------- appointments


def appointment_payable(appointment_id: ObjectId, payer_id: ObjectId) -> Payable:
    appt = appointments.get(appointment_id)
    if appt is None or appt.get("patient") != payer_id:  # someone else's: as if it did not exist
        raise NotFound.of("Appointment")
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
    return appointments.states(ids)


def appointment_refund_due(appt: Mapping[str, Any], cutoff_minutes: int) -> bool:
    """Full refund when the doctor or an admin cancelled, or the patient did before the cut-off;
    none after the cut-off, for a no-show or a held consultation."""
    if appt.get("status") != appointments.CANCELLED:
        return False
    cancellation = appt.get("cancellation") or {}
    if cancellation.get("role") != PATIENT:
        return True
    at = cancellation.get("at")
    return isinstance(at, datetime) and _aware(at) <= _aware(appt["start"]) - timedelta(minutes=cutoff_minutes)


# ---------------------------------------------------------------- orders (the pharmacy's seam)


def order_payable(order_id: ObjectId, payer_id: ObjectId) -> Payable:
    amount, currency = pharmacy.payable_order(str(order_id), payer_id)
    if int(amount) <= 0:
        raise Unprocessable("This order has nothing to pay", code=Code.NOTHING_TO_PAY)
    return Payable(int(amount), str(currency).upper(), "CureConnect pharmacy order")


# ---------------------------------------------------------------- dispatch


def payable(kind: str, target_id: ObjectId, payer_id: ObjectId) -> Payable:
    if kind == APPOINTMENT:
        return appointment_payable(target_id, payer_id)
    return order_payable(target_id, payer_id)


def record(kind: str, target_id: ObjectId, status: str, intent_id: str) -> bool:
    """Tell the owner of the target the payment's outcome (`paid | failed | canceled |
    refunded`). False when the target no longer wants the money (cancelled, hold expired), so
    the caller refunds it."""
    if kind == APPOINTMENT:
        return appointments.record_payment(target_id, status, intent_id) is not False
    return pharmacy.record_order_payment(str(target_id), status, intent_id) is not False


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
