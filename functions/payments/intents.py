"""A payer's side of payments: the PaymentIntent for an appointment or an order, and what the
payer (or an admin) may know of a payment. Stripe only through `gateway`."""

from __future__ import annotations

from typing import Any

from functions.core import clock
from functions.core.config import get_settings
from functions.core.db import object_id
from functions.core.errors import Code, Conflict, NotFound
from functions.core.money import to_major
from functions.core.security import ADMIN, Principal
from functions.payments import gateway, targets
from functions.payments.schemas import IntentIn, IntentOut
from functions.payments.status import OPEN, REQUIRES_PAYMENT
from functions.payments.stores import payments as store


def create_intent(principal: Principal, body: IntentIn) -> IntentOut:
    """POST /payments/intent: amount and currency from the database; the idempotency key is
    derived from what is paid for and how much, so a double click or a retry gives back the
    same PaymentIntent, and a changed amount a new one."""
    target_id = object_id(body.id, body.kind.title())
    payable = targets.payable(body.kind, target_id, principal.id)
    ref, now = store.ref_of(body.kind, target_id), clock.now()
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
    if kind not in targets.KINDS:
        raise NotFound.of("Payment")
    payment = store.get(store.ref_of(kind, object_id(target_id, "Payment")))
    if payment is None or (payment.get("payerId") != principal.id and principal.role != ADMIN):
        raise NotFound.of("Payment")
    currency = str(payment.get("currency") or get_settings().default_currency)
    return {k: payment.get(k) for k in ("kind", "targetId", "status", "currency", "paidAt", "refundedAt",
                                        "updatedAt")} | {
        "amount": to_major(payment.get("amount"), currency),
        "refundedAmount": to_major(payment.get("refundedAmount"), currency),
        "paymentIntentId": payment.get("intentId")}
