"""Request and response models of the payments routes.

Amounts in answers are in major units of the payment's currency (INR: rupees, `500` or `123.45`);
the database and Stripe keep minor units (`core.money` converts).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, StringConstraints

from functions.core.schemas import Answer, Id, MajorAmount, OutModel, WriteModel

Kind = Literal["appointment", "order"]


class IntentIn(WriteModel):
    kind: Kind
    id: Annotated[str, StringConstraints(min_length=1, max_length=64)]


class IntentOut(BaseModel):
    clientSecret: str
    paymentIntentId: str
    amount: MajorAmount
    currency: str


class IntentAnswer(IntentOut, Answer):
    """The answer of POST /payments/intent (the envelope's `success` and the intent)."""


PaymentStatus = Literal["requires_payment", "succeeded", "failed", "canceled", "refund_pending", "refunded"]


class PaymentOut(OutModel):
    """What the payer (or an admin) may know of a payment (`intents.payment_status`)."""

    kind: Kind
    targetId: Id
    status: PaymentStatus
    currency: str
    amount: MajorAmount | None
    refundedAmount: MajorAmount | None
    paymentIntentId: str | None
    paidAt: datetime | None
    refundedAt: datetime | None
    updatedAt: datetime | None


class PaymentAnswer(Answer):
    payment: PaymentOut


class WebhookAnswer(Answer):
    """Stripe's event acknowledged: `handled` when it changed a payment, `duplicate` when it was
    seen before."""

    received: Literal[True]
    handled: bool | None = None
    duplicate: bool | None = None
