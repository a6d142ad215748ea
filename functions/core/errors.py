"""Domain errors. Pure Python: services raise these, `core.http` maps them to HTTP once."""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    """An error the caller can act on. `status` and `code` travel to the response."""

    status = 500
    code = "INTERNAL"
    default_message = "Internal error"

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)
        if code:
            self.code = code
        self.errors = errors or []
        self.headers = headers or {}
        self.extra = extra or {}


class BadRequest(AppError):
    status, code, default_message = 400, "BAD_REQUEST", "Bad request"


class ValidationFailed(AppError):
    status, code, default_message = 400, "VALIDATION_FAILED", "Validation failed"


class Unauthorized(AppError):
    status, code, default_message = 401, "UNAUTHENTICATED", "Please login to access this resource"


class Forbidden(AppError):
    status, code, default_message = 403, "FORBIDDEN", "You are not allowed to do this"


class NotFound(AppError):
    status, code, default_message = 404, "NOT_FOUND", "Not found"


class MethodNotAllowed(AppError):
    status, code, default_message = 405, "METHOD_NOT_ALLOWED", "Method not allowed"


class Conflict(AppError):
    status, code, default_message = 409, "CONFLICT", "Conflict"


class PayloadTooLarge(AppError):
    status, code, default_message = 413, "PAYLOAD_TOO_LARGE", "Payload too large"


class Unprocessable(AppError):
    status, code, default_message = 422, "UNPROCESSABLE", "The request cannot be processed"


class RateLimited(AppError):
    status, code, default_message = 429, "RATE_LIMITED", "Too many requests"

    def __init__(self, message: str | None = None, *, retry_after: int, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = max(1, int(retry_after))
        self.headers["Retry-After"] = str(self.retry_after)


class ServiceUnavailable(AppError):
    status, code, default_message = 503, "UNAVAILABLE", "A dependency is unavailable"
