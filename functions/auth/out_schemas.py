"""Answer models of the auth routes (the OpenAPI document's `*Out` and `*Answer` models).

They describe the answers as the views build them (`auth.views`, `directory`, `records`); the request
bodies and query strings are in `auth.schemas`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, RootModel

from functions.auth.schemas import ApprovalStatus, Role
from functions.core.schemas import Answer, Id, MajorAmount, OpenOutModel, OutModel, PageOut, Timestamp

# ---------------------------------------------------------------- accounts, directory and records


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
