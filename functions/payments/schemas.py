"""Request and response models of the payments routes."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, StringConstraints

from functions.core.schemas import WriteModel

Kind = Literal["appointment", "order"]


class IntentIn(WriteModel):
    kind: Kind
    id: Annotated[str, StringConstraints(min_length=1, max_length=64)]


class IntentOut(BaseModel):
    clientSecret: str
    paymentIntentId: str
    amount: int
    currency: str
