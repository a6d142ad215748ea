"""Refunds: in full, once, whoever asks (a cancelled appointment or order through its port, the
webhook for something no longer payable, the sweeper's retry); the owner is told through the
`tell` its caller passes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from bson import ObjectId

from functions.core import clock, metrics
from functions.core.config import get_settings
from functions.core.errors import AppError
from functions.core.metrics import Metric
from functions.core.observability import logger
from functions.payments import gateway, targets
from functions.payments.status import OUTCOME, REFUND_PENDING, REFUND_REQUESTED, REFUNDED, SOURCES, history_entry
from functions.payments.stores import payments as store

# (kind, target id, outcome, intent id): how a refund's owner is told it went through. Payments'
# own paths (webhook, sweeper) pass `targets.record`; a cancelled appointment or order passes its
# own recorder with its request (it reaches the refund through a port, see `functions.core.ports`).
Tell = Callable[[str, ObjectId, str, str], object]


def refund(kind: str, target_id: ObjectId, reason: str, tell: Tell | None = None) -> str | None:
    """Refund in full what was paid for the target, once (the claim is the move to
    `refund_pending`; the Refund API call carries an idempotency key, so the sweeper's retry of
    a call that failed cannot refund twice). The status after, or None if nothing was paid. When
    the refund goes through now, `tell` records it with the target's owner."""
    now = clock.now()
    payment = store.transition(store.ref_of(kind, target_id), SOURCES[REFUND_PENDING],
                               {"status": REFUND_PENDING, "refundReason": reason, "updatedAt": now},
                               history_entry(REFUND_PENDING, now, reason=reason))
    if payment is None:
        return None
    return send_refund(payment, tell)


def send_refund(payment: Mapping[str, Any], tell: Tell | None) -> str:
    """Ask Stripe for the refund of a payment in `refund_pending`; the status after (still
    pending when the call failed: the sweeper retries it)."""
    amount = int(payment.get("amountReceived") or payment["amount"])
    try:
        result = gateway.refund(str(payment["intentId"]), amount, f"re:{payment['_id']}:{payment['intentId']}",
                                {"ref": str(payment["_id"])})
    except AppError:
        return REFUND_PENDING  # logged by the gateway; the sweeper retries
    now = clock.now()
    done = result.succeeded
    changes: dict[str, Any] = {"refundId": result.id, "updatedAt": now}
    if done:
        changes.update({"status": REFUNDED, "refundedAmount": result.amount, "refundedAt": now})
    updated = store.transition(payment["_id"], (REFUND_PENDING,), changes,
                               history_entry(REFUNDED if done else REFUND_REQUESTED, now, refundId=result.id))
    if done and updated is not None:
        metrics.count(Metric.PAYMENT_REFUNDED)
    if done and updated is not None and tell is not None:
        _tell(tell, updated)
    return REFUNDED if done else REFUND_PENDING


def _tell(tell: Tell, payment: Mapping[str, Any]) -> None:
    """Tell the owner, after the refund is recorded: not needed for the answer, so a failure is
    logged, not raised (issue 19: no 5xx from a step after the write). Stripe's `charge.refunded`
    event for this refund tells the owner again (`webhook._move` finishes a status already reached)."""
    try:
        tell(payment["kind"], payment["targetId"], OUTCOME[REFUNDED], str(payment["intentId"]))
    except Exception as exc:
        logger.warning("Refund recorded, owner not told; the charge.refunded event tells it",
                       extra={"payment": str(payment["_id"]), "error": type(exc).__name__})


def appointment_cancelled(appt: Mapping[str, Any], tell: Tell | None = None) -> str | None:
    """For the appointments domain, after a cancellation is committed: refund per the policy
    (`targets.appointment_refund_due`). The status after, or None when nothing is refunded."""
    if not targets.appointment_refund_due(appt, get_settings().cancel_cutoff_minutes):
        return None
    return refund(targets.APPOINTMENT, appt["_id"], f"cancelled by {(appt.get('cancellation') or {}).get('role')}",
                  tell)


def order_cancelled(order_id: ObjectId, reason: str, tell: Tell | None = None) -> str | None:
    """For the pharmacy domain, after a paid order is cancelled or rejected: refund in full."""
    return refund(targets.ORDER, order_id, reason, tell)
