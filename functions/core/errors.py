"""Domain errors. Pure Python: services raise these, `core.edge` maps them to HTTP once."""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class Code(StrEnum):
    """The catalogue of error codes a client may see (the `code` of the error envelope), one
    definition each. The HTTP status comes from the error class raised with it."""

    # the error classes' defaults (below) and the HTTP edge's own answers
    BAD_REQUEST = "BAD_REQUEST"
    VALIDATION_FAILED = "VALIDATION_FAILED"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    CONFLICT = "CONFLICT"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    UNPROCESSABLE = "UNPROCESSABLE"
    RATE_LIMITED = "RATE_LIMITED"
    UNAVAILABLE = "UNAVAILABLE"
    DB_UNAVAILABLE = "DB_UNAVAILABLE"  # the database is away (connection lost, no server selected in time)
    INTERNAL = "INTERNAL"
    ERROR = "ERROR"  # an error Chalice answered itself with a code of its own we do not know
    ROUTE_NOT_FOUND = "ROUTE_NOT_FOUND"  # API Gateway's answer (infra/merge-template.json, local/gateway_responses.py)
    # request shape (400), sessions (401), permissions (403)
    MALFORMED_JSON = "MALFORMED_JSON"
    MALFORMED_FORM = "MALFORMED_FORM"
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
    INVALID_DATE = "INVALID_DATE"
    DATE_OUT_OF_RANGE = "DATE_OUT_OF_RANGE"
    INVALID_TIME = "INVALID_TIME"
    INVALID_TOKEN = "INVALID_TOKEN"  # noqa: S105 (a code, not a secret)
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    ACCOUNT_INACTIVE = "ACCOUNT_INACTIVE"
    APPROVAL_REQUIRED = "APPROVAL_REQUIRED"
    CROSS_SITE_REQUEST = "CROSS_SITE_REQUEST"
    # accounts
    CONTACT_TAKEN = "CONTACT_TAKEN"
    CONTACT_CLAIMABLE = "CONTACT_CLAIMABLE"  # held by an account that never proved it: POST /contact/claim
    NOTHING_TO_CLAIM = "NOTHING_TO_CLAIM"  # no account holds the contact: sign up with it
    INVALID_CONTACT = "INVALID_CONTACT"
    ROLE_NOT_ALLOWED = "ROLE_NOT_ALLOWED"
    FIELD_NOT_ALLOWED = "FIELD_NOT_ALLOWED"
    NOTHING_TO_UPDATE = "NOTHING_TO_UPDATE"
    WRONG_PASSWORD = "WRONG_PASSWORD"  # noqa: S105 (a code, not a secret)
    SAME_PASSWORD = "SAME_PASSWORD"  # noqa: S105 (a code, not a secret)
    WEAK_PASSWORD = "WEAK_PASSWORD"  # noqa: S105 (a code, not a secret)
    PASSWORD_CHANGED = "PASSWORD_CHANGED"  # noqa: S105 (a code, not a secret)
    LOGIN_LOCKED = "LOGIN_LOCKED"
    NOT_APPROVABLE = "NOT_APPROVABLE"
    SELF_DEACTIVATION = "SELF_DEACTIVATION"
    ACCOUNT_HAS_OBLIGATIONS = "ACCOUNT_HAS_OBLIGATIONS"  # a deletion refused: appointments or orders still open
    LAST_ADMIN = "LAST_ADMIN"  # a deletion refused: the platform's last active admin
    DELETION_REQUESTED = "DELETION_REQUESTED"  # the account's deletion is already under way
    NOT_DELETING = "NOT_DELETING"  # a restore of an account whose deletion was not asked for
    ACCOUNT_ERASED = "ACCOUNT_ERASED"  # a restore after the erase: nothing is left to restore
    HISTORY_FULL = "HISTORY_FULL"
    ALREADY_VERIFIED = "ALREADY_VERIFIED"
    INVALID_CODE = "INVALID_CODE"
    TOO_MANY_CODES = "TOO_MANY_CODES"
    # two-factor sign-in (issue 24 §2)
    MFA_ENROLMENT_REQUIRED = "MFA_ENROLMENT_REQUIRED"  # a required role's session is limited to enrolment
    MFA_ALREADY_ENABLED = "MFA_ALREADY_ENABLED"
    MFA_NOT_ENABLED = "MFA_NOT_ENABLED"
    MFA_SETUP_MISSING = "MFA_SETUP_MISSING"  # confirm without a pending setup
    MFA_REQUIRED_FOR_ROLE = "MFA_REQUIRED_FOR_ROLE"  # turning it off where MFA_REQUIRED_ROLES requires it
    MFA_TOKEN_INVALID = "MFA_TOKEN_INVALID"  # noqa: S105 (a code, not a secret)
    MFA_LOCKED = "MFA_LOCKED"
    # appointments
    SELF_BOOKING = "SELF_BOOKING"
    NOT_ACCEPTING = "NOT_ACCEPTING"
    SLOT_IN_PAST = "SLOT_IN_PAST"
    BEYOND_HORIZON = "BEYOND_HORIZON"
    NOT_A_SLOT = "NOT_A_SLOT"
    TOO_SOON = "TOO_SOON"
    DOCTOR_AWAY = "DOCTOR_AWAY"
    SLOT_TAKEN = "SLOT_TAKEN"
    PATIENT_BUSY = "PATIENT_BUSY"
    TOO_MANY_APPOINTMENTS = "TOO_MANY_APPOINTMENTS"
    TOO_MANY_WITH_DOCTOR = "TOO_MANY_WITH_DOCTOR"
    ILLEGAL_TRANSITION = "ILLEGAL_TRANSITION"
    APPOINTMENT_CHANGED = "APPOINTMENT_CHANGED"
    NOT_STARTED = "NOT_STARTED"
    CANCEL_CUTOFF = "CANCEL_CUTOFF"
    WAITLIST_FULL = "WAITLIST_FULL"
    OFFER_GONE = "OFFER_GONE"
    SAME_SLOT = "SAME_SLOT"
    INVALID_RANGE = "INVALID_RANGE"
    TOO_MANY = "TOO_MANY"
    # prescriptions
    APPOINTMENT_MISMATCH = "APPOINTMENT_MISMATCH"
    APPOINTMENT_NOT_ELIGIBLE = "APPOINTMENT_NOT_ELIGIBLE"
    PRESCRIPTION_INVALID = "PRESCRIPTION_INVALID"
    PRESCRIPTION_NOT_ACTIVE = "PRESCRIPTION_NOT_ACTIVE"
    PDF_FONTS_MISSING = "PDF_FONTS_MISSING"
    # a user's own data (issue 24 §3)
    EXPORT_TOO_LARGE = "EXPORT_TOO_LARGE"  # the zip would not fit Lambda's answer: GET /me/export (JSON)
    # payments, uploads, the emergency line, analysis
    PAYMENTS_NOT_CONFIGURED = "PAYMENTS_NOT_CONFIGURED"
    PAYMENT_PROVIDER_ERROR = "PAYMENT_PROVIDER_ERROR"
    NOT_PAYABLE = "NOT_PAYABLE"
    NOTHING_TO_PAY = "NOTHING_TO_PAY"
    ALREADY_PAID = "ALREADY_PAID"
    BAD_SIGNATURE = "BAD_SIGNATURE"
    BAD_EVENT = "BAD_EVENT"
    UPLOADS_NOT_CONFIGURED = "UPLOADS_NOT_CONFIGURED"
    ASSET_INVALID = "ASSET_INVALID"
    IVR_NOT_CONFIGURED = "IVR_NOT_CONFIGURED"
    INVALID_PHONE = "INVALID_PHONE"
    PHONE_REQUIRED = "PHONE_REQUIRED"
    ANALYSIS_NOT_CONFIGURED = "ANALYSIS_NOT_CONFIGURED"
    ANALYSIS_PROVIDER_ERROR = "ANALYSIS_PROVIDER_ERROR"
    ANALYSIS_RATE_LIMITED = "ANALYSIS_RATE_LIMITED"
    EMERGENCY_RATE_LIMITED = "EMERGENCY_RATE_LIMITED"
    EMERGENCY_OPEN = "EMERGENCY_OPEN"  # the patient already has an emergency request waiting for a doctor
    CONTACT_NOT_VERIFIED = "CONTACT_NOT_VERIFIED"
    # calls
    NOT_CONFIRMED = "NOT_CONFIRMED"
    # pharmacies, inventory and orders
    PHARMACY_EXISTS = "PHARMACY_EXISTS"
    LICENSE_TAKEN = "LICENSE_TAKEN"
    REGISTRATION_REFUSED = "REGISTRATION_REFUSED"
    NO_PHARMACY = "NO_PHARMACY"
    PHARMACY_NOT_VERIFIED = "PHARMACY_NOT_VERIFIED"
    IMAGE_TOO_LARGE = "IMAGE_TOO_LARGE"
    IMAGE_TYPE = "IMAGE_TYPE"
    UPLOAD_FAILED = "UPLOAD_FAILED"
    TOO_MANY_IMAGES = "TOO_MANY_IMAGES"
    MALFORMED_CSV = "MALFORMED_CSV"
    NO_ROWS = "NO_ROWS"
    NO_VALID_ROWS = "NO_VALID_ROWS"
    TOO_MANY_ROWS = "TOO_MANY_ROWS"
    ITEM_UNAVAILABLE = "ITEM_UNAVAILABLE"
    ITEM_EXPIRED = "ITEM_EXPIRED"
    PRESCRIPTION_REQUIRED = "PRESCRIPTION_REQUIRED"
    OUT_OF_STOCK = "OUT_OF_STOCK"
    ORDER_LIMIT = "ORDER_LIMIT"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    REQUEST_IN_PROGRESS = "REQUEST_IN_PROGRESS"
    PAYMENT_PENDING = "PAYMENT_PENDING"
    ALREADY_RATED = "ALREADY_RATED"


class FrameCode(StrEnum):
    """The codes of WebSocket error frames (`{type: "error", code, message}`): the signaling
    protocol's lowercase vocabulary, which browsers already read. An `AppError` raised while a
    frame is handled answers its `Code` in lower case (`FrameCode.of`)."""

    BAD_REQUEST = "bad_request"
    UNKNOWN_ACTION = "unknown_action"
    INVALID = "invalid"
    TOO_LARGE = "too_large"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    NOT_IN_ROOM = "not_in_room"
    NO_PEER = "no_peer"
    DB_UNAVAILABLE = "db_unavailable"  # the database is away: the frame did nothing, send it again later
    RATE_LIMITED = "rate_limited"
    REPLACED = "replaced"  # the user opened more connections than allowed: this, the oldest, is closed

    @staticmethod
    def of(exc: AppError) -> str:
        """The frame code of an error raised by a use case: `rate_limited` for any 429, else its
        `Code` in lower case."""
        return FrameCode.RATE_LIMITED.value if exc.status == 429 else exc.code.lower()


class AppError(Exception):
    """An error the caller can act on. `status` and `code` travel to the response."""

    status = 500
    code: Code = Code.INTERNAL
    default_message = "Internal error"

    def __init__(
        self,
        message: str | None = None,
        *,
        code: Code | None = None,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)
        if code:
            self.code = Code(code)
        self.errors = errors or []
        self.headers = headers or {}
        self.extra = extra or {}


class BadRequest(AppError):
    status, code, default_message = 400, Code.BAD_REQUEST, "Bad request"


class ValidationFailed(AppError):
    status, code, default_message = 400, Code.VALIDATION_FAILED, "Validation failed"


class Unauthorized(AppError):
    status, code, default_message = 401, Code.UNAUTHENTICATED, "Please login to access this resource"


class InvalidToken(Unauthorized):
    """The session token is malformed, expired, revoked or of an older session version."""

    code, default_message = Code.INVALID_TOKEN, "Invalid or expired token"


class Forbidden(AppError):
    status, code, default_message = 403, Code.FORBIDDEN, "You are not allowed to do this"


class NotFound(AppError):
    status, code, default_message = 404, Code.NOT_FOUND, "Not found"

    @classmethod
    def of(cls, what: str, **kw: Any) -> NotFound:
        """`NotFound.of("Order")`: "Order not found"."""
        return cls(f"{what} not found", **kw)


class MethodNotAllowed(AppError):
    status, code, default_message = 405, Code.METHOD_NOT_ALLOWED, "Method not allowed"


class Conflict(AppError):
    status, code, default_message = 409, Code.CONFLICT, "Conflict"


class Gone(AppError):
    status, code, default_message = 410, Code.ACCOUNT_ERASED, "Gone"


class SlotTaken(Conflict):
    """Another booking holds this doctor's slot."""

    code, default_message = Code.SLOT_TAKEN, "This time slot is already booked"


class PatientBusy(Conflict):
    """The patient already has an appointment overlapping this one."""

    code, default_message = Code.PATIENT_BUSY, "You already have an appointment at this time"


class UnsupportedMediaType(AppError):
    status, code, default_message = 415, Code.UNSUPPORTED_MEDIA_TYPE, "Unsupported media type"


class PayloadTooLarge(AppError):
    status, code, default_message = 413, Code.PAYLOAD_TOO_LARGE, "Payload too large"


class Unprocessable(AppError):
    status, code, default_message = 422, Code.UNPROCESSABLE, "The request cannot be processed"


class RateLimited(AppError):
    status, code, default_message = 429, Code.RATE_LIMITED, "Too many requests"

    def __init__(self, message: str | None = None, *, retry_after: int, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = max(1, int(retry_after))
        self.headers["Retry-After"] = str(self.retry_after)


class ServiceUnavailable(AppError):
    status, code, default_message = 503, Code.UNAVAILABLE, "A dependency is unavailable"


class DatabaseUnavailable(ServiceUnavailable):
    """The database did not answer (connection lost, no server in time): the request changed
    nothing the caller can rely on and may be retried once it is back."""

    code, default_message = Code.DB_UNAVAILABLE, "The database is unavailable; please try again shortly"
    retry_after = 5

    def __init__(self, message: str | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.headers["Retry-After"] = str(self.retry_after)
