"""Unpaid holds: a booking waiting for its payment, and what the payment's outcome does to it.

With REQUIRE_APPOINTMENT_PAYMENT on (issue 12), a new appointment holds its slot (its claims
are taken as for any booking) as `pending_payment` for PAYMENT_HOLD_MINUTES; the payment moves
it to `confirmed` (`pending` when the doctor required confirmation when it was booked), and
only then do the booking notices and reminders go out. Unpaid holds are released by the
sweeper like a cancellation. (The money itself is the `payments` domain's.)

`record_payment` is what the payments domain calls with each outcome (through `api`); a
cancellation asks payments for its refund through the `REFUNDS` port, which the composition root
plugs in (payments imports appointments, so appointments never imports payments); `sweep` is
listed in `functions.registry`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bson import ObjectId

from functions.appointments import claims
from functions.appointments.api import REFUNDS
from functions.appointments.effects import Outcome, Release, Reminders, run
from functions.appointments.grid import released_key
from functions.appointments.messages import Recipient, booking_kinds, recipient_of
from functions.appointments.status import (
    CANCELLED,
    COMPLETED,
    CONFIRMED,
    NO_SHOW,
    PENDING,
    PENDING_PAYMENT,
    booked_status,
    history_entry,
)
from functions.appointments.stores import appointments as store
from functions.core import clock, metrics
from functions.core.config import get_settings
from functions.core.metrics import Metric
from functions.core.observability import logger

PAID_STATUSES = (PENDING, CONFIRMED, COMPLETED, NO_SHOW)  # the appointment wanted the money
SWEEP_BATCH = 100


def hold(now: datetime) -> dict[str, Any] | None:
    """The fields of a new booking while payment is required (None: it is not)."""
    settings = get_settings()
    if not settings.require_appointment_payment:
        return None
    return {"status": PENDING_PAYMENT, "holdExpiresAt": now + timedelta(minutes=settings.payment_hold_minutes)}


def _parties(appt: dict[str, Any], kind_patient: str, kind_doctor: str | None) -> list[tuple[str, Recipient | None]]:
    parties = appt.get("parties") or {}
    out = [(kind_patient, recipient_of(parties.get("patient"), appt["patient"]))]
    if kind_doctor:
        out.append((kind_doctor, recipient_of(parties.get("doctor"), appt["doctor"])))
    return out


def record_payment(appointment_id: ObjectId, status: str, intent_id: str) -> bool:
    """The payment's outcome (`paid | failed | canceled | refunded`), idempotent. `paid` turns a
    live hold into a `confirmed` appointment, or `pending` when its doctor required confirmation
    at booking (the appointment's `requiresConfirmation`, set once at insert, read first; holds
    booked before the setting existed have none and count as false, as their doctors do), by
    one conditional update, and sends the booking notices and reminders then. Returns False
    when the money came for an appointment that no longer wants it (cancelled, or its hold ran
    out), so payments refunds it."""
    now = clock.now()
    fields = {"payment.status": status, "payment.intentId": intent_id, "payment.updatedAt": now}
    if status != "paid":
        store.set_payment(appointment_id, fields)
        return True
    booked = store.get(appointment_id)
    target = booked_status(bool((booked or {}).get("requiresConfirmation", False)))
    updated = store.apply_transition(
        {"_id": appointment_id, "status": PENDING_PAYMENT, "holdExpiresAt": {"$gt": now}},
        {"status": target, "updatedAt": now, **fields}, history_entry(target, None, "system", now, reason="paid"))
    if updated is not None:
        run(Outcome(updated, _parties(updated, *booking_kinds(target)), Reminders.ARM))
        return True
    current = store.set_payment(appointment_id, fields)
    return current is not None and current.get("status") in PAID_STATUSES


def _told(kind: str, appointment_id: ObjectId, status: str, intent_id: str) -> None:
    record_payment(appointment_id, status, intent_id)


def refund_if_paid(appt: dict[str, Any]) -> None:
    """After a committed cancellation: payments refunds per its policy (in full when the doctor
    cancelled, or the patient did before the cut-off). Never fails the cancellation: the
    payments sweeper catches what this misses. Nothing to do (and no round trip, keeping a
    cancellation at 3) when the appointment, as the cancelling write returned it, was not paid:
    a payment arriving later finds it cancelled and is refunded by `record_payment`'s caller."""
    if (appt.get("payment") or {}).get("status") != "paid":
        return
    try:
        REFUNDS(appt, _told)
    except Exception as exc:
        logger.warning("refund after cancellation failed", extra={"error": type(exc).__name__})


def sweep(now: datetime) -> dict[str, int]:
    """Release holds whose time ran out: cancelled by the system, claims given back, the patient
    told. One conditional update each, so a payment arriving at the same moment either wins
    (and the hold is not released) or finds it cancelled (and is refunded)."""
    released = 0
    for appt in store.expired_holds(now, SWEEP_BATCH):
        oid = appt["_id"]
        reason = "payment not received in time"
        updated = store.apply_transition(
            {"_id": oid, "status": PENDING_PAYMENT, "holdExpiresAt": {"$lte": now}},
            {"status": CANCELLED, "updatedAt": now, "slotKey": released_key(oid), "patientSlotKey": released_key(oid),
             "cancellation": {"by": None, "role": "system", "reason": reason, "at": now}},
            history_entry(CANCELLED, None, "system", now, reason=reason))
        if updated is None:
            continue
        claims.release_claims(oid)
        metrics.count(Metric.APPOINTMENT_CANCELLED_BY_SYSTEM)
        # release: the effect frees the claims again (idempotent) and offers the slot to the waitlist
        run(Outcome(updated, _parties(updated, CANCELLED, None), Reminders.KEEP, release=Release.CLAIMS))
        released += 1
    if released:
        logger.info("payment holds released", extra={"released": released})
    return {"expiredHolds": released}
