"""Pydantic models for the request bodies and query strings of the auth domain (the answers are in
`auth.out_schemas`).

Write models reject unknown fields (no mass assignment): a client can never set `role` through
PUT /me, nor `approvalStatus`, `active` or `passwordHash` anywhere.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    Field,
    PlainValidator,
    StringConstraints,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from functions.core.money import parse_major
from functions.core.schemas import PageQuery, UpdateModel, WriteModel
from functions.core.security import REJECTED
from functions.media.api import asset_url

MAX_URL = 2048


def _https_url(value: str) -> str:
    return asset_url(value)  # https://, or (dev stage) under the local Cloudinary stand-in's base


def _iana_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("must be an IANA time zone such as Asia/Kolkata") from None
    return value


Text = StringConstraints(strip_whitespace=True)
Name = Annotated[str, Text, StringConstraints(min_length=2, max_length=60)]
Contact = Annotated[str, Text, StringConstraints(min_length=3, max_length=254)]
NewPassword = Annotated[str, Field(min_length=8, max_length=128)]
AnyPassword = Annotated[str, Field(min_length=1, max_length=128)]
HttpsUrl = Annotated[str, Text, StringConstraints(min_length=9, max_length=MAX_URL), AfterValidator(_https_url)]
Currency = Annotated[str, Text, StringConstraints(pattern=r"^[A-Za-z]{3}$"), AfterValidator(str.upper)]
TimeZone = Annotated[str, Text, StringConstraints(min_length=1, max_length=64), AfterValidator(_iana_zone)]
Speciality = Annotated[str, Text, StringConstraints(min_length=2, max_length=60)]
Language = Annotated[str, Text, StringConstraints(min_length=2, max_length=35)]
# Major units of the doctor's currency (a number or a numeric string); the service converts it to
# the stored minor units with the currency that applies (`fees`).
Fee = Annotated[Decimal, PlainValidator(parse_major), WithJsonSchema({
    "type": ["number", "string"],
    "description": "The consultation fee in major units of the doctor's currency (INR: rupees, at most 2 decimal "
                   "places); stored in minor units"})]
Reason = Annotated[str, Text, StringConstraints(min_length=1, max_length=500)]

PUBLIC_ROLES = ("patient", "user", "doctor", "pharmacist")
Role = Literal["patient", "doctor", "pharmacist", "admin"]
ApprovalStatus = Literal["approved", "pending", "rejected"]


class Avatar(WriteModel):
    public_id: Annotated[str, Text, StringConstraints(max_length=255)] = ""
    url: Annotated[str, Text, StringConstraints(max_length=MAX_URL)] = ""

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _https_url(value) if value else value


def _avatar_from_json_string(value: Any) -> Any:
    """The existing frontend sends the Cloudinary result as a JSON string."""
    if isinstance(value, str):
        try:
            return json.loads(value) if value.strip() else None
        except ValueError:
            raise ValueError("must be an object {public_id, url}") from None
    return value


class DoctorProfile(WriteModel):
    """Fields only a doctor has; shown in the public directory."""

    speciality: Speciality | None = None
    bio: Annotated[str, Text, StringConstraints(max_length=2000)] | None = None
    languages: Annotated[list[Language], Field(max_length=10)] | None = None
    consultationFee: Fee | None = None
    currency: Currency | None = None
    timezone: TimeZone | None = None


DOCTOR_FIELDS = tuple(DoctorProfile.model_fields)


class RegisterIn(DoctorProfile):
    name: Name
    contact: Contact
    password: NewPassword
    # `admin` parses so that the service can answer 422; anything else unknown is a 400.
    role: Literal["patient", "user", "doctor", "pharmacist", "admin"] = "patient"
    avatar: Avatar | None = None
    # Sent by the existing sign-up form and ignored, as the reference did; a doctor's
    # availability is managed through the appointments API.
    availability: Annotated[Any, Field(exclude=True)] = None

    _avatar = field_validator("avatar", mode="before")(_avatar_from_json_string)


class LoginIn(WriteModel):
    contact: Contact
    password: AnyPassword


class UpdateMeIn(DoctorProfile, UpdateModel):
    name: Name | None = None
    avatar: Avatar | None = None

    _avatar = field_validator("avatar", mode="before")(_avatar_from_json_string)


class PasswordUpdateIn(WriteModel):
    oldPassword: AnyPassword
    newPassword: NewPassword


def _utf8_at_most(limit: int) -> AfterValidator:
    def check(value: str) -> str:
        if len(value.encode()) > limit:
            raise ValueError(f"must be at most {limit} bytes in UTF-8")
        return value

    return AfterValidator(check)


class MedicalHistoryIn(WriteModel):
    """Sized so that a full history (500 entries) stays far below Lambda's 6 MB response limit."""

    analysis: Annotated[str, Text, StringConstraints(min_length=1, max_length=4000), _utf8_at_most(6000)]
    url: Annotated[HttpsUrl, StringConstraints(max_length=1024)]
    type: Literal["image", "video", "document"] = "image"


class ApprovalIn(WriteModel):
    status: Literal["approved", "rejected"]
    reason: Reason | None = None

    @model_validator(mode="after")
    def _reason_for_rejection(self) -> ApprovalIn:
        if self.status == REJECTED and not self.reason:
            raise ValueError("A reason is required to reject an account")
        return self


class ActiveIn(WriteModel):
    active: Annotated[bool, Field(strict=True)]
    reason: Reason | None = None


# ---------------------------------------------------------------- query strings
# Unknown query parameters are ignored (cache busters and the like), never stored.


class DoctorsQuery(PageQuery):
    speciality: Annotated[str, Text, StringConstraints(min_length=1, max_length=60)] | None = None
    q: Annotated[str, Text, StringConstraints(min_length=1, max_length=100)] | None = None


class UsersQuery(PageQuery):
    role: Role | None = None
    approvalStatus: ApprovalStatus | None = None


# ---------------------------------------------------------------- contact verification and recovery

OneTimeCode = Annotated[str, Text, StringConstraints(pattern=r"^\d{6}$")]


class VerifyConfirmIn(WriteModel):
    code: OneTimeCode


class ForgotPasswordIn(WriteModel):
    contact: Contact


class ResetPasswordIn(WriteModel):
    contact: Contact
    code: OneTimeCode
    newPassword: NewPassword


# ---------------------------------------------------------------- claiming a contact (issue 21 item 4)


class ClaimIn(WriteModel):
    contact: Contact


class ClaimConfirmIn(RegisterIn):
    """A sign-up (the fields of /register) with the code sent to the claimed contact."""

    code: OneTimeCode


class ContactChangeIn(WriteModel):
    """An admin's change of a user's contact: unverified unless `verified` says the admin checked it."""

    contact: Contact
    verified: Annotated[bool, Field(strict=True)] = False
    reason: Reason | None = None


# ---------------------------------------------------------------- two-factor sign-in (issue 24 §2)

RecoveryCode = Annotated[str, Text, StringConstraints(pattern=r"^[A-Za-z0-9 -]{10,20}$")]
StepToken = Annotated[str, Text, StringConstraints(min_length=1, max_length=2048)]


class MfaCodeIn(WriteModel):
    code: OneTimeCode


class MfaDisableIn(WriteModel):
    password: AnyPassword
    code: OneTimeCode


class MfaLoginIn(WriteModel):
    """The second step: the login's `mfaToken` and either the authenticator's `code` or one
    `recoveryCode`."""

    mfaToken: StepToken
    code: OneTimeCode | None = None
    recoveryCode: RecoveryCode | None = None

    @model_validator(mode="after")
    def _one_factor(self) -> MfaLoginIn:
        if (self.code is None) == (self.recoveryCode is None):
            raise ValueError("send either code or recoveryCode")
        return self
