"""Pydantic models for the request bodies and query strings of the auth domain.

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
    RootModel,
    StringConstraints,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from functions.core.money import parse_major
from functions.core.schemas import (
    Answer,
    Id,
    MajorAmount,
    OpenOutModel,
    OutModel,
    PageOut,
    PageQuery,
    Timestamp,
    WriteModel,
)
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


class UpdateMeIn(DoctorProfile):
    name: Name | None = None
    avatar: Avatar | None = None

    _avatar = field_validator("avatar", mode="before")(_avatar_from_json_string)

    @model_validator(mode="after")
    def _not_empty(self) -> UpdateMeIn:
        if not self.model_fields_set:
            raise ValueError("Nothing to update")
        return self


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
    role: Literal["patient", "doctor", "pharmacist", "admin"] | None = None
    approvalStatus: Literal["approved", "pending", "rejected"] | None = None


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


# ---------------------------------------------------------------- answers (the OpenAPI document's `*Out` models)

Role = Literal["patient", "doctor", "pharmacist", "admin"]
ApprovalStatus = Literal["approved", "pending", "rejected"]


class AvatarOut(OpenOutModel):
    """A Cloudinary image as stored: `{public_id, url}` (both empty when there is none)."""

    public_id: str | None = None
    url: str | None = None


class UserOut(OpenOutModel):
    """A user as the user themself (or an admin) sees it (`auth.views.self_view`): never a
    private field. A doctor's profile fields come with the doctor's role only; `availability` is
    then whether the doctor can be booked (their schedule is at GET /doctor/availability)."""

    id: Id = Field(alias="_id")
    name: str
    contact: str
    contactType: Literal["email", "phone"]
    role: Role
    approvalStatus: ApprovalStatus
    active: bool
    contactVerified: bool
    avatar: AvatarOut | None = None
    createdAt: Timestamp
    updatedAt: Timestamp | None = None
    speciality: str | None = None
    bio: str | None = None
    languages: list[str] | None = None
    consultationFee: MajorAmount | None = None
    currency: str | None = None
    timezone: str | None = None
    availability: bool | None = None


class UserAnswer(Answer):
    user: UserOut


class SessionAnswer(Answer):
    """A new session: the token is also the HttpOnly `token` cookie (Set-Cookie)."""

    user: UserOut
    token: str


class UsersAnswer(Answer):
    count: int
    users: list[UserOut]
    pagination: PageOut


class ActorOut(OutModel):
    id: Id | None
    name: str | None
    role: str | None


class ResourceOut(OutModel):
    type: str | None
    id: Id | None


class AccessEntryOut(OutModel):
    """Who read or changed the caller's data."""

    actor: ActorOut
    action: str | None
    resource: ResourceOut
    reason: str | None
    at: Timestamp | None


class AccessLogAnswer(Answer):
    entries: list[AccessEntryOut]
    pagination: PageOut


class ImageOut(OpenOutModel):
    url: str | None = None


class HistoryEntryOut(OutModel):
    """One entry of a medical history; `url` repeats `image.url` (the frontend's cards read both).
    Entries the original system stored may lack an id, a type or a date."""

    id: Id | None = Field(default=None, alias="_id")
    analysis: str
    image: ImageOut | None = None
    url: str | None
    type: str | None = None
    createdAt: Timestamp | None = None


class HistoryAnswer(Answer):
    medicalHistory: list[HistoryEntryOut]


class HistoryAddedAnswer(Answer):
    message: str
    entry: HistoryEntryOut
    medicalHistory: list[HistoryEntryOut]


class PatientRecordOut(OutModel):
    """The patient summary behind the frontend's QR code (`complete-data`)."""

    patientId: Id
    name: str | None
    contact: str | None
    role: str | None
    avatar: AvatarOut | None
    createdAt: Timestamp | None
    lastUpdated: Timestamp | None
    isActive: bool
    medicalHistory: list[HistoryEntryOut]
    prescriptions: list[dict[str, Any]] = Field(description="The patient's prescriptions (the prescriptions "
                                                            "domain's list items)")


class PatientRecordAnswer(Answer):
    data: PatientRecordOut


class DoctorOut(OutModel):
    """A doctor as anyone sees it: never contact details; `availability` is whether the doctor
    can be booked (approved, active, taking bookings, with weekly hours)."""

    id: Id = Field(alias="_id")
    name: str | None = None
    speciality: str | None = None
    bio: str | None = None
    languages: list[str] | None = None
    consultationFee: MajorAmount | None = None
    currency: str | None = None
    timezone: str | None = None
    avatar: AvatarOut | None = None
    availability: bool


class DoctorsAnswer(Answer):
    count: int
    doctors: list[DoctorOut]
    pagination: PageOut


class DoctorAnswer(Answer):
    doctor: DoctorOut


class CodeSentAnswer(Answer):
    message: str
    expiresInSeconds: int


_USER_EXAMPLE = {"_id": "665f1c2e9b1e8a0012345678", "name": "Asha Rao", "contact": "asha@example.com",
                 "contactType": "email", "role": "patient", "approvalStatus": "approved", "active": True,
                 "contactVerified": False, "avatar": {"public_id": "", "url": ""},
                 "createdAt": "2026-12-01T09:30:00Z", "updatedAt": "2026-12-01T09:30:00Z"}
# Request and answer examples of the main flows (`@describe(examples=...)`).
EXAMPLES: dict[str, dict[str, dict[str, Any]]] = {
    "register": {"a patient signs up": {
        "request": {"name": "Asha Rao", "contact": "asha@example.com", "password": "a long pass phrase",
                    "role": "patient"},
        "response": {"success": True, "user": _USER_EXAMPLE, "token": "eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl"}}},
    "login": {"a patient signs in": {
        "request": {"contact": "asha@example.com", "password": "a long pass phrase"},
        "response": {"success": True, "user": _USER_EXAMPLE, "token": "eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl"}}},
}


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


class MfaSetupAnswer(Answer):
    secret: str = Field(description="The TOTP secret (base32), for typing into an authenticator app")
    uri: str = Field(description="otpauth://totp/... for a QR code")


class MfaConfirmAnswer(Answer):
    recoveryCodes: list[str] = Field(description="Single-use codes, shown this once (stored hashed)")


class MfaChallengeAnswer(Answer):
    """A login that needs the second step: no session and no cookie yet."""

    mfaRequired: Literal[True]
    mfaToken: str = Field(description="Good for POST /login/mfa only, for MFA_TOKEN_TTL_SECONDS")


class LoginAnswer(RootModel[SessionAnswer | MfaChallengeAnswer]):
    """A login's answer: the session, or (with a second factor) the challenge for /login/mfa."""
