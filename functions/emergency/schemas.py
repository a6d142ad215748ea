"""Request models of the emergency IVR (Twilio's form fields), the hospitals admin and the
doctors' on-call switch, and the answers of the JSON routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from functions.core.schemas import Answer, Id, OutModel, PageOut, PageQuery, UpdateModel, WriteModel

Pincode = Annotated[str, StringConstraints(pattern=r"^[1-9]\d{5}$")]
Phone = Annotated[str, StringConstraints(pattern=r"^\+?[\d\s().-]{6,24}$")]
Name = Annotated[str, StringConstraints(min_length=1, max_length=120)]
Language = Literal["en", "hi"]


class TwilioFormIn(BaseModel):
    """The fields of Twilio's voice webhooks we use; Twilio sends many more (ignored)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    call_sid: Annotated[str, Field(alias="CallSid", max_length=64)] = ""
    caller: Annotated[str, Field(alias="From", max_length=32)] = ""
    digits: Annotated[str, Field(alias="Digits", max_length=16)] = ""
    dial_status: Annotated[str, Field(alias="DialCallStatus", max_length=32)] = ""


class IvrQuery(BaseModel):
    """Our own query parameters on the action URLs we hand to Twilio."""

    model_config = ConfigDict(extra="ignore")

    lang: Language = "en"
    attempt: Annotated[int, Field(ge=1, le=10)] = 1
    next: Annotated[int, Field(ge=0, le=50)] = 0


class HospitalIn(WriteModel):
    name: Name
    phone: Phone
    address: Annotated[str, StringConstraints(min_length=1, max_length=300)]
    city: Annotated[str, StringConstraints(min_length=1, max_length=80)]
    pincode: Pincode
    kind: Literal["public", "private"] = "public"
    emergency: bool = True
    active: bool = True


class HospitalUpdateIn(UpdateModel):
    name: Name | None = None
    phone: Phone | None = None
    address: Annotated[str, StringConstraints(min_length=1, max_length=300)] | None = None
    city: Annotated[str, StringConstraints(min_length=1, max_length=80)] | None = None
    pincode: Pincode | None = None
    kind: Literal["public", "private"] | None = None
    emergency: bool | None = None
    active: bool | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        """Every field is optional, none may be cleared: `{"kind": null}` is a 400 naming the
        field (a hospital always has a name, phone, address, city, pincode and kind)."""
        if value is None:
            raise ValueError("may not be null; leave the field out to keep it")
        return value


class HospitalsQuery(PageQuery):
    active: bool = True
    pincode: Pincode | None = None
    city: Annotated[str, StringConstraints(max_length=80)] | None = None


class OnCallIn(WriteModel):
    onCall: bool
    phone: Phone | None = None


class OnCallConfirmIn(WriteModel):
    code: Annotated[str, StringConstraints(pattern=r"^\d{6}$")]


# ---------------------------------------------------------------- answers


class HospitalOut(OutModel):
    """A hospital the line reads out (`hospitals.to_api`)."""

    id: Id = Field(alias="_id")
    name: str
    phone: str
    address: str
    city: str
    pincode: str
    kind: Literal["public", "private"]
    emergency: bool
    active: bool
    createdAt: datetime | None
    updatedAt: datetime | None


class HospitalAnswer(Answer):
    hospital: HospitalOut


class HospitalListAnswer(Answer):
    hospitals: list[HospitalOut]
    pagination: PageOut


class OnCallOut(OutModel):
    """Whether the line rings the doctor, at which verified `phone`, and a number waiting for its
    code (`pendingPhone`, `codeSent`)."""

    onCall: bool
    phone: str | None
    since: datetime | None
    pendingPhone: str | None
    codeSent: bool


class OnCallAnswer(Answer):
    onCall: OnCallOut
