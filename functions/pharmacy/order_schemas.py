"""Pydantic models for order bodies and query strings.

Payment and delivery details the server decides (payment status, transaction id, paid-at,
tracking) are never read from the client (D-18: `paymentInfo` was stored as sent, so a client
could mark its own order paid); they are dropped from `paymentInfo`/`deliveryInfo`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from functions.core.schemas import PageQuery, WholeNumber, WriteModel
from functions.pharmacy.schemas import OBJECT_ID, PHONE, PINCODE, UnpagedList
from functions.pharmacy.status import DELIVERY, DeliveryType, OrderStatus, PaymentMethod

ObjectIdStr = Annotated[str, StringConstraints(pattern=OBJECT_ID)]


class OrderItemIn(WriteModel):
    medicine: ObjectIdStr
    quantity: Annotated[WholeNumber, Field(ge=1, le=100)]  # 2 or "2"; never 1.5 or true


class ShippingAddress(WriteModel):
    fullName: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    phone: Annotated[str, StringConstraints(pattern=PHONE)]
    street: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    city: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    state: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    pincode: Annotated[str, StringConstraints(pattern=PINCODE)]
    landmark: Annotated[str, StringConstraints(max_length=200)] | None = None
    addressType: Literal["Home", "Work", "Other"] = "Home"


class PaymentInfoIn(WriteModel):
    model_config = ConfigDict(extra="ignore")  # status, transactionId, paidAt: never from the client

    method: PaymentMethod


class DeliveryInfoIn(WriteModel):
    model_config = ConfigDict(extra="ignore")  # tracking fields are the pharmacy's, not the customer's

    type: DeliveryType = DELIVERY


class OrderIn(WriteModel):
    pharmacyId: ObjectIdStr
    items: Annotated[list[OrderItemIn], Field(min_length=1, max_length=50)]
    shippingAddress: ShippingAddress | None = None
    paymentInfo: PaymentInfoIn
    deliveryInfo: DeliveryInfoIn = Field(default_factory=DeliveryInfoIn)  # built on first use, not at import
    specialInstructions: Annotated[str, StringConstraints(max_length=500)] = ""
    isUrgent: bool = False
    prescriptionId: ObjectIdStr | None = None

    @model_validator(mode="after")
    def _address_for_delivery(self) -> OrderIn:
        if self.deliveryInfo.type == DELIVERY and self.shippingAddress is None:
            raise ValueError("shippingAddress is required for delivery")
        if len({item.medicine.lower() for item in self.items}) != len(self.items):
            raise ValueError("each medicine may appear once; set its quantity instead")
        return self


class StatusIn(WriteModel):
    status: OrderStatus
    note: Annotated[str, StringConstraints(max_length=500)] = ""


class CancelIn(WriteModel):
    reason: Annotated[str, StringConstraints(max_length=500)] = ""


class RateIn(WriteModel):
    rating: Annotated[int, Field(strict=True, ge=1, le=5)]
    review: Annotated[str, StringConstraints(max_length=500)] = ""


class OrderListQuery(UnpagedList):
    limit: Annotated[int, Field(ge=1, le=100)] = 10
    status: OrderStatus | Literal["all", ""] | None = None


class ReportQuery(PageQuery):
    startDate: Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}")] | None = None
    endDate: Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}")] | None = None
    reportType: Annotated[str, StringConstraints(max_length=20)] = "monthly"
