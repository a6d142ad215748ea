"""Request and response models of the payments routes.

Amounts in answers are in major units of the payment's currency (INR: rupees, `500` or `123.45`);
the database and Stripe keep minor units (`core.money` converts).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, StringConstraints, WithJsonSchema

from functions.core.schemas import WriteModel

Kind = Literal["appointment", "order"]
# sent as a JSON number (core.envelope encodes a Decimal as 45.5 or 120)
Major = Annotated[Decimal, WithJsonSchema({
    "type": "number", "description": "An amount in major units of `currency` (INR: rupees, at most 2 decimal places)"})]


class IntentIn(WriteModel):
    kind: Kind
    id: Annotated[str, StringConstraints(min_length=1, max_length=64)]


class IntentOut(BaseModel):
    clientSecret: str
    paymentIntentId: str
    amount: Major
    currency: str


class IntentAnswer(IntentOut):
    """The answer of POST /payments/intent (the envelope's `success` and the intent)."""

    success: Literal[True]
