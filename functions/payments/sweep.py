"""Payments' periodic work (`functions.registry.SWEEPS`): refund calls that failed are retried,
and paid appointments cancelled elsewhere are refunded per the policy."""

from __future__ import annotations

from datetime import datetime, timedelta

from pymongo.errors import PyMongoError

from functions.appointments import api as appointments
from functions.core import clock
from functions.core.observability import logger
from functions.payments import refunds, targets
from functions.payments.status import REFUND_PENDING
from functions.payments.stores import payments as store

REFUND_RETRY_AFTER = timedelta(minutes=5)
CANCELLED_LOOKBACK = timedelta(days=2)  # a doctor may still cancel an appointment that has started
SWEEP_BATCH = 50


def sweep(now: datetime | None = None) -> dict[str, int]:
    """Refund calls that failed earlier are retried; paid appointments that were cancelled are
    refunded per the policy (a safety net behind the refund each cancellation asks for through
    the appointments domain's `REFUNDS` port). The owners are told through `targets.record`."""
    now = now or clock.now()
    retried = 0
    for payment in store.stuck(REFUND_PENDING, now - REFUND_RETRY_AFTER, SWEEP_BATCH):
        retried += 1
        logger.info("retrying refund", extra={"payment": payment["_id"]})
        try:  # each retry is idempotent (the refund's idempotency key, the move from refund_pending)
            refunds.send_refund(payment, targets.record)
        except PyMongoError as exc:  # the next tick retries it; the others go on
            logger.warning("refund retry failed", extra={"payment": payment["_id"], "error": type(exc).__name__})
    return {"refundsRetried": retried, "cancelledRefunded": _refund_cancelled_appointments(now)}


def _refund_cancelled_appointments(now: datetime) -> int:
    refunded, after = 0, ""
    while True:
        page = store.paid_starting_after(targets.APPOINTMENT, now - CANCELLED_LOOKBACK, after, SWEEP_BATCH)
        if not page:
            return refunded
        states = targets.appointment_states([p["targetId"] for p in page])
        for payment in page:
            appt = states.get(payment["targetId"])
            if appt is not None and appt.get("status") == appointments.CANCELLED:
                refunded += refunds.appointment_cancelled(appt, targets.record) is not None
        after = page[-1]["_id"]
