"""Stripe's webhook: each event id handled once, and the payment moved along `status.SOURCES`;
the owner of what was paid for is told the outcome (`targets.record`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from functions.core import audit, clock, metrics
from functions.core.compensation import Compensations
from functions.core.config import get_settings
from functions.core.errors import BadRequest, Code, Conflict
from functions.core.metrics import Metric
from functions.core.observability import logger
from functions.payments import gateway, refunds, targets
from functions.payments.status import (
    CANCELED,
    FAILED,
    FLAGGED,
    MISMATCH,
    OPEN,
    OUTCOME,
    PARTIALLY_REFUNDED,
    REFUND_PENDING,
    REFUNDED,
    SOURCES,
    SUCCEEDED,
    history_entry,
)
from functions.payments.stores import events
from functions.payments.stores import payments as store

INTENT_EVENTS = {"payment_intent.succeeded": SUCCEEDED, "payment_intent.payment_failed": FAILED,
                 "payment_intent.canceled": CANCELED}
HANDLED = frozenset({*INTENT_EVENTS, "charge.refunded"})


# The business metric of each status an event moves a payment to.
_MOVED = {SUCCEEDED: Metric.PAYMENT_SUCCEEDED, FAILED: Metric.PAYMENT_FAILED, REFUNDED: Metric.PAYMENT_REFUNDED}


def handle_webhook(payload: bytes | str, signature: str | None) -> dict[str, Any]:
    """POST /payments/webhook: verify the signature on the raw bytes, then handle each event id
    once (issue 19: a delivery that fails at any step is finished by Stripe's retry).

    Every step of the handling is idempotent (a status moves only from its `SOURCES`, an owner
    told twice records once, a refund is claimed by its own move), so the event id is a claim
    released on failure, not a lock: claim, handle, mark handled. A delivery that fails answers
    an error (503 when the database is away) and its claim is released, so Stripe's retry handles
    it again; a claim the release could not remove (the database away, the Lambda dead) is taken
    over by the first delivery after `REPAIR_AFTER_SECONDS`. A delivery while another is in
    flight is refused with 409 (Stripe retries it later); one after the mark is a replay,
    acknowledged only. Event types we do not handle are acknowledged without a claim."""
    try:
        event = gateway.verify_event(payload.encode() if isinstance(payload, str) else payload, signature)
    except gateway.BadSignature:
        raise BadRequest("Invalid webhook signature", code=Code.BAD_SIGNATURE) from None
    event_id, event_type = str(event.get("id") or ""), str(event.get("type") or "")
    if not event_id:
        raise BadRequest("The event has no id", code=Code.BAD_EVENT)
    if event_type not in HANDLED:
        return {"received": True, "handled": False}  # acknowledged and ignored: nothing to claim
    now = clock.now()
    with Compensations("payments.webhook claim") as undo:
        undo.step("claim event", lambda: events.forget_event(event_id))  # a lost reply may have claimed it
        fresh = events.claim_event(event_id, event_type, now)
    if not fresh and not _take_over(event_id, now):
        return {"received": True, "duplicate": True}
    try:
        with Compensations("payments.webhook") as undo:
            undo.step("release the claim", lambda: events.forget_event(event_id))  # Stripe's retry handles it again
            handled = _dispatch(event_type, (event.get("data") or {}).get("object") or {})
            events.mark_handled(event_id, clock.now())
    except Exception:
        metrics.count(Metric.PAYMENT_WEBHOOK_FAILED)
        raise
    return {"received": True, "handled": handled}


def _take_over(event_id: str, now: datetime) -> bool:
    """A delivery of an event claimed before: False for a replay of a handled one; True (handle
    it again) when the claim was left by a delivery that died half way; 409 while one is in flight."""
    earlier = events.get_event(event_id)
    if earlier is None:  # released a moment ago by a delivery that failed: handle it now
        return True
    if earlier.get("handledAt") is not None:
        return False
    received = earlier.get("receivedAt")
    if isinstance(received, datetime) and received > now - timedelta(seconds=get_settings().repair_after_seconds):
        raise Conflict("This event is being handled; deliver it again later", code=Code.REQUEST_IN_PROGRESS)
    return True


def _dispatch(event_type: str, obj: Mapping[str, Any]) -> bool:
    if event_type in INTENT_EVENTS:
        payment = _payment_of_intent(obj)
        if payment is None:
            return False
        if INTENT_EVENTS[event_type] == SUCCEEDED and not _as_charged(payment, obj):
            return _flag(payment, obj)
        return _move(payment, INTENT_EVENTS[event_type], intent_id=str(obj.get("id")),
                     received=obj.get("amount_received"))
    if event_type == "charge.refunded":
        payment = store.by_intent(str(obj.get("payment_intent") or ""))
        if payment is None:
            return False
        refunded = int(obj.get("amount_refunded") or 0)
        if refunded < int(payment.get("amount") or 0):  # a partial refund (made in the dashboard)
            now = clock.now()
            return store.transition(payment["_id"], (SUCCEEDED, REFUND_PENDING),
                                    {"refundedAmount": refunded, "updatedAt": now},
                                    history_entry(PARTIALLY_REFUNDED, now, amount=refunded)) is not None
        return _move(payment, REFUNDED, refunded=refunded)
    return False  # other event types are acknowledged and ignored


def _payment_of_intent(obj: Mapping[str, Any]) -> dict[str, Any] | None:
    """Found by the `ref` we put in the metadata (an older intent of the same payment, replaced
    after an amount change, is found too; its success counts only if it took what the payment
    charges now, else it is flagged: `_as_charged`), else by intent id."""
    ref = (obj.get("metadata") or {}).get("ref")
    payment = store.get(str(ref)) if ref else None
    return payment if payment is not None else store.by_intent(str(obj.get("id") or ""))


def _as_charged(payment: Mapping[str, Any], obj: Mapping[str, Any]) -> bool:
    """Did the intent take exactly what the payment charges (its `amount`, in minor units, and
    its `currency`)? A success for less, more, or in another currency is not a payment."""
    received = obj.get("amount_received")
    return (isinstance(received, int) and not isinstance(received, bool) and received == payment.get("amount")
            and str(obj.get("currency") or "").upper() == str(payment.get("currency") or "").upper())


def _flag(payment: Mapping[str, Any], obj: Mapping[str, Any]) -> bool:
    """Issue 21 item 11: a success that does not match what was charged leaves the payment
    unpaid (its owner is not told), marks it `flagged` for an admin and audits it."""
    now = clock.now()
    received, currency = obj.get("amount_received"), str(obj.get("currency") or "").upper()
    flag = {"reason": MISMATCH, "intentId": str(obj.get("id") or ""), "at": now,
            "amountReceived": received if isinstance(received, int) else None, "currency": currency}
    store.transition(payment["_id"], OPEN, {"flagged": flag, "review": FLAGGED, "updatedAt": now},
                     history_entry(FLAGGED, now, intentId=flag["intentId"], reason=MISMATCH))
    audit.record("stripe", "payment.flagged", "payment", payment["_id"], MISMATCH, subject_id=payment.get("payerId"))
    logger.warning("payment flagged", extra={"payment": payment["_id"], "reason": MISMATCH})
    return True


def _move(payment: Mapping[str, Any], status: str, *, intent_id: str | None = None, received: Any = None,
          refunded: int | None = None) -> bool:
    now = clock.now()
    changes: dict[str, Any] = {"status": status, "updatedAt": now}
    if intent_id:
        changes["intentId"] = intent_id
    if status == SUCCEEDED:
        changes["paidAt"] = now
        if isinstance(received, int):
            changes["amountReceived"] = received
    if refunded is not None:
        changes.update({"refundedAmount": refunded, "refundedAt": now})
    updated = store.transition(payment["_id"], SOURCES[status], changes,
                               history_entry(status, now, intentId=intent_id))
    if updated is not None and status in _MOVED:
        metrics.count(_MOVED[status])
    if updated is None:
        current = store.get(payment["_id"])
        if current is None or current.get("status") != status:
            return False  # a late or out-of-order event: the status already moved on
        # Already in this status: an earlier delivery failed after the write (its event id was
        # released, so Stripe retried it). Finish what it started; the owners' calls are idempotent.
        updated = current
    wanted = targets.record(updated["kind"], updated["targetId"], OUTCOME[status], str(updated["intentId"]))
    if status == SUCCEEDED and not wanted:  # paid for something cancelled or expired meanwhile
        refunds.refund(updated["kind"], updated["targetId"], "no longer payable", targets.record)
    return True
