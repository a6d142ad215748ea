"""Payment rules: intents for appointments and orders, the Stripe webhook, refunds and the
sweeper's retries. Pure Python (no Chalice); Stripe only through `gateway`.

A payment's status moves along one table (`SOURCES`): each change is one conditional update
whose filter lists the statuses it may start from, so webhook events applied twice, late or out
of order never move a payment backwards (a failure after the success changes nothing).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from bson import ObjectId

from functions.appointments import api as appointments
from functions.core import clock
from functions.core.config import get_settings
from functions.core.db import object_id
from functions.core.errors import AppError, BadRequest, Code, Conflict, NotFound
from functions.core.money import to_major
from functions.core.observability import logger
from functions.core.security import ADMIN, Principal
from functions.payments import gateway, store, targets
from functions.payments.schemas import IntentIn, IntentOut

REQUIRES_PAYMENT, SUCCEEDED, FAILED, CANCELED = "requires_payment", "succeeded", "failed", "canceled"
REFUND_PENDING, REFUNDED = "refund_pending", "refunded"
OPEN = (REQUIRES_PAYMENT, FAILED, CANCELED)  # a new intent may replace the current one

# target status -> the statuses it may be reached from
SOURCES: dict[str, tuple[str, ...]] = {
    SUCCEEDED: OPEN,
    FAILED: (REQUIRES_PAYMENT, FAILED),
    CANCELED: (REQUIRES_PAYMENT, FAILED),
    REFUND_PENDING: (SUCCEEDED,),
    REFUNDED: (SUCCEEDED, REFUND_PENDING),
}
# what the owner of the target is told
OUTCOME = {SUCCEEDED: "paid", FAILED: "failed", CANCELED: "canceled", REFUNDED: "refunded"}
INTENT_EVENTS = {"payment_intent.succeeded": SUCCEEDED, "payment_intent.payment_failed": FAILED,
                 "payment_intent.canceled": CANCELED}
REFUND_RETRY_AFTER = timedelta(minutes=5)
CANCELLED_LOOKBACK = timedelta(days=2)  # a doctor may still cancel an appointment that has started
SWEEP_BATCH = 50

# (kind, target id, outcome, intent id): how a refund's owner is told it went through. Payments'
# own paths (webhook, sweeper) pass `targets.record`; a cancelled appointment or order passes its
# own recorder with its request (it reaches the refund through a port, see `functions.core.ports`).
Tell = Callable[[str, ObjectId, str, str], object]


def ref_of(kind: str, target_id: ObjectId) -> str:
    return f"{kind}:{target_id}"


def _entry(status: str, now: datetime, **extra: Any) -> dict[str, Any]:
    return {"status": status, "at": now, **{k: v for k, v in extra.items() if v is not None}}


# ---------------------------------------------------------------- intents


def create_intent(principal: Principal, body: IntentIn) -> IntentOut:
    """POST /payments/intent: amount and currency from the database; the idempotency key is
    derived from what is paid for and how much, so a double click or a retry gives back the
    same PaymentIntent, and a changed amount a new one."""
    target_id = object_id(body.id, body.kind.title())
    payable = targets.payable(body.kind, target_id, principal.id)
    ref, now = ref_of(body.kind, target_id), clock.now()
    current = store.get(ref)
    if current is not None and current.get("status") not in OPEN:
        raise Conflict("This has already been paid", code=Code.ALREADY_PAID)
    metadata = {"kind": body.kind, "id": str(target_id), "payerId": str(principal.id), "ref": ref}
    key = f"pi:{ref}:{payable.amount}:{payable.currency}"
    intent = gateway.create_intent(payable.amount, payable.currency, metadata, key, payable.description)
    fields: dict[str, Any] = {"kind": body.kind, "targetId": target_id, "payerId": principal.id,
                              "amount": payable.amount, "currency": payable.currency, "intentId": intent.id,
                              "status": REQUIRES_PAYMENT}
    if payable.starts_at is not None:
        fields["targetStart"] = payable.starts_at
    if not store.open_payment(ref, OPEN, fields, now):
        raise Conflict("This has already been paid", code=Code.ALREADY_PAID)
    amount = to_major(payable.amount, payable.currency)
    assert amount is not None  # a payable amount always exists
    return IntentOut(clientSecret=intent.client_secret, paymentIntentId=intent.id, amount=amount,
                     currency=payable.currency)


def payment_status(principal: Principal, kind: str, target_id: str) -> dict[str, Any]:
    """GET /payments/{kind}/{id}: what the payer (or an admin) may know of a payment, amounts in
    major units of its currency; anyone else, or a payment that does not exist, 404."""
    if kind not in ("appointment", "order"):
        raise NotFound("Payment not found")
    payment = store.get(ref_of(kind, object_id(target_id, "Payment")))
    if payment is None or (payment.get("payerId") != principal.id and principal.role != ADMIN):
        raise NotFound("Payment not found")
    currency = str(payment.get("currency") or get_settings().default_currency)
    return {k: payment.get(k) for k in ("kind", "targetId", "status", "currency", "paidAt", "refundedAt",
                                        "updatedAt")} | {
        "amount": to_major(payment.get("amount"), currency),
        "refundedAmount": to_major(payment.get("refundedAmount"), currency),
        "paymentIntentId": payment.get("intentId")}


# ---------------------------------------------------------------- webhook


def handle_webhook(payload: bytes | str, signature: str | None) -> dict[str, Any]:
    """POST /payments/webhook: verify the signature on the raw bytes, then handle each event id
    once. The id is claimed before handling and released if handling fails, so Stripe's retry
    of a failed delivery is processed while a replay of a handled one is acknowledged only."""
    try:
        event = gateway.verify_event(payload.encode() if isinstance(payload, str) else payload, signature)
    except gateway.BadSignature:
        raise BadRequest("Invalid webhook signature", code=Code.BAD_SIGNATURE) from None
    event_id, event_type = str(event.get("id") or ""), str(event.get("type") or "")
    if not event_id:
        raise BadRequest("The event has no id", code=Code.BAD_EVENT)
    if not store.claim_event(event_id, event_type, clock.now()):
        return {"received": True, "duplicate": True}
    try:
        handled = _dispatch(event_type, (event.get("data") or {}).get("object") or {})
    except Exception:
        store.forget_event(event_id)
        raise
    return {"received": True, "handled": handled}


def _dispatch(event_type: str, obj: Mapping[str, Any]) -> bool:
    if event_type in INTENT_EVENTS:
        payment = _payment_of_intent(obj)
        if payment is None:
            return False
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
                                    _entry("partially_refunded", now, amount=refunded)) is not None
        return _move(payment, REFUNDED, refunded=refunded)
    return False  # other event types are acknowledged and ignored


def _payment_of_intent(obj: Mapping[str, Any]) -> dict[str, Any] | None:
    """Found by the `ref` we put in the metadata (an older intent of the same payment, replaced
    after an amount change, still counts if it is the one that succeeds), else by intent id."""
    ref = (obj.get("metadata") or {}).get("ref")
    payment = store.get(str(ref)) if ref else None
    return payment if payment is not None else store.by_intent(str(obj.get("id") or ""))


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
    updated = store.transition(payment["_id"], SOURCES[status], changes, _entry(status, now, intentId=intent_id))
    if updated is None:
        current = store.get(payment["_id"])
        if current is None or current.get("status") != status:
            return False  # a late or out-of-order event: the status already moved on
        # Already in this status: an earlier delivery failed after the write (its event id was
        # released, so Stripe retried it). Finish what it started; the owners' calls are idempotent.
        updated = current
    wanted = targets.record(updated["kind"], updated["targetId"], OUTCOME[status], str(updated["intentId"]))
    if status == SUCCEEDED and not wanted:  # paid for something cancelled or expired meanwhile
        refund(updated["kind"], updated["targetId"], "no longer payable", targets.record)
    return True


# ---------------------------------------------------------------- refunds


def refund(kind: str, target_id: ObjectId, reason: str, tell: Tell | None = None) -> str | None:
    """Refund in full what was paid for the target, once (the claim is the move to
    `refund_pending`; the Refund API call carries an idempotency key, so the sweeper's retry of
    a call that failed cannot refund twice). The status after, or None if nothing was paid. When
    the refund goes through now, `tell` records it with the target's owner."""
    now = clock.now()
    payment = store.transition(ref_of(kind, target_id), SOURCES[REFUND_PENDING],
                               {"status": REFUND_PENDING, "refundReason": reason, "updatedAt": now},
                               _entry(REFUND_PENDING, now, reason=reason))
    if payment is None:
        return None
    return _send_refund(payment, tell)


def _send_refund(payment: Mapping[str, Any], tell: Tell | None) -> str:
    amount = int(payment.get("amountReceived") or payment["amount"])
    try:
        result = gateway.refund(str(payment["intentId"]), amount, f"re:{payment['_id']}:{payment['intentId']}",
                                {"ref": str(payment["_id"])})
    except AppError:
        return REFUND_PENDING  # logged by the gateway; the sweeper retries
    now = clock.now()
    done = result.status == "succeeded"
    changes: dict[str, Any] = {"refundId": result.id, "updatedAt": now}
    if done:
        changes.update({"status": REFUNDED, "refundedAmount": result.amount, "refundedAt": now})
    updated = store.transition(payment["_id"], (REFUND_PENDING,), changes,
                               _entry(REFUNDED if done else "refund_requested", now, refundId=result.id))
    if done and updated is not None and tell is not None:
        tell(updated["kind"], updated["targetId"], OUTCOME[REFUNDED], str(updated["intentId"]))
    return REFUNDED if done else REFUND_PENDING


def appointment_cancelled(appt: Mapping[str, Any], tell: Tell | None = None) -> str | None:
    """For the appointments domain, after a cancellation is committed: refund per the policy
    (`targets.appointment_refund_due`). The status after, or None when nothing is refunded."""
    if not targets.appointment_refund_due(appt, get_settings().cancel_cutoff_minutes):
        return None
    return refund("appointment", appt["_id"], f"cancelled by {(appt.get('cancellation') or {}).get('role')}", tell)


def order_cancelled(order_id: ObjectId, reason: str, tell: Tell | None = None) -> str | None:
    """For the pharmacy domain, after a paid order is cancelled or rejected: refund in full."""
    return refund("order", order_id, reason, tell)


# ---------------------------------------------------------------- sweeper


def sweep(now: datetime | None = None) -> dict[str, int]:
    """Refund calls that failed earlier are retried; paid appointments that were cancelled are
    refunded per the policy (a safety net behind the refund each cancellation asks for through
    the appointments domain's `REFUNDS` port). The owners are told through `targets.record`."""
    now = now or clock.now()
    retried = 0
    for payment in store.stuck(REFUND_PENDING, now - REFUND_RETRY_AFTER, SWEEP_BATCH):
        retried += 1
        logger.info("retrying refund", extra={"payment": payment["_id"]})
        _send_refund(payment, targets.record)
    return {"refundsRetried": retried, "cancelledRefunded": _refund_cancelled_appointments(now)}


def _refund_cancelled_appointments(now: datetime) -> int:
    refunded, after = 0, ""
    while True:
        page = store.paid_for_appointments(now - CANCELLED_LOOKBACK, after, SWEEP_BATCH)
        if not page:
            return refunded
        states = targets.appointment_states([p["targetId"] for p in page])
        for payment in page:
            appt = states.get(payment["targetId"])
            if appt is not None and appt.get("status") == appointments.CANCELLED:
                refunded += appointment_cancelled(appt, targets.record) is not None
        after = page[-1]["_id"]
