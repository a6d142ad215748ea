"""Request and response models of the payments routes.

Amounts in answers are in major units of the payment's currency (INR: rupees, `500` or `123.45`);
the database and Stripe keep minor units (`core.money` converts).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, StringConstraints

from functions.core.schemas import Answer, Id, MajorAmount, OutModel, PageOut, WriteModel

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


class FlagOut(OutModel):
    """Why a payment was flagged: what Stripe reported, in its own currency."""

    reason: str | None
    paymentIntentId: str | None
    at: datetime | None
    currency: str
    amountReceived: MajorAmount | None


class FlaggedPaymentOut(OutModel):
    """A flagged payment as an admin reviews it: what was charged beside what was reported."""

    id: Id
    kind: Kind | None
    targetId: Id | None
    payerId: Id | None
    status: PaymentStatus | None
    amount: MajorAmount | None
    currency: str
    flag: FlagOut
    updatedAt: datetime | None


class FlaggedPaymentsAnswer(Answer):
    payments: list[FlaggedPaymentOut]
    pagination: PageOut
