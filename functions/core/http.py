"""HTTP edge shared by every domain: JSON encoding, envelopes, body/query validation,
the error boundary, CORS, preflight and the JSON 404/405 answers."""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, TypeVar

import chalice.app
from bson import ObjectId
from chalice.app import Response
from pydantic import BaseModel, ValidationError

from functions.core.config import get_settings
from functions.core.errors import AppError, BadRequest, ValidationFailed
from functions.core.observability import logger

Model = TypeVar("Model", bound=BaseModel)

JSON_HEADERS = {"Content-Type": "application/json"}
# API answers may carry PHI: never cache them in shared caches or the browser.
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
    "Referrer-Policy": "no-referrer",
}
CORS_ALLOW_HEADERS = "Content-Type, Authorization, X-Requested-With, Accept"


def iso_utc(value: datetime) -> str:
    if value.tzinfo is None:  # stored instants are UTC; naive ones come from old data
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _encode(value: Any) -> Any:
    if isinstance(value, ObjectId):
        return str(value)
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"Cannot encode {type(value).__name__} as JSON")


def to_json(payload: Any) -> str:
    return json.dumps(payload, default=_encode, separators=(",", ":"), ensure_ascii=False)


def respond(
    status: int = 200,
    headers: dict[str, str] | None = None,
    multi_value_headers: dict[str, list[str]] | None = None,
    **payload: Any,
) -> Response:
    """The success envelope: `{"success": true, ...resource keys}`."""
    all_headers: dict[str, str | list[str]] = {**JSON_HEADERS, **(headers or {}), **(multi_value_headers or {})}
    return Response(body=to_json({"success": True, **payload}), status_code=status, headers=all_headers)


def error_body(status: int, code: str, message: str, errors: list[dict[str, str]] | None = None,
               **extra: Any) -> dict[str, Any]:
    return {"success": False, "message": message, "code": code, "errors": errors or [], **extra}


def error_response(status: int, code: str, message: str, errors: list[dict[str, str]] | None = None,
                   headers: dict[str, str] | None = None, **extra: Any) -> Response:
    all_headers: dict[str, str | list[str]] = {**JSON_HEADERS, **(headers or {})}
    return Response(body=to_json(error_body(status, code, message, errors, **extra)), status_code=status,
                    headers=all_headers)


def app_error_response(exc: AppError) -> Response:
    return error_response(exc.status, exc.code, exc.message, exc.errors, exc.headers, **exc.extra)


# ---------------------------------------------------------------- validation


def field_errors(exc: ValidationError) -> list[dict[str, str]]:
    out = []
    for err in exc.errors(include_url=False, include_input=False):
        path = ".".join(str(p) for p in err["loc"] if p != "__root__") or "body"
        message = err["msg"]
        if err["type"] == "extra_forbidden":
            message = "Unknown field"
        out.append({"field": path, "message": message})
    return out


def parse_model(model: type[Model], data: Any) -> Model:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed("Validation failed", errors=field_errors(exc)) from None


def json_body(request: chalice.app.Request) -> Any:
    raw = request.raw_body
    if not raw:
        return {}
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("Malformed JSON body", code="MALFORMED_JSON") from None


def parse_body(request: chalice.app.Request, model: type[Model]) -> Model:
    data = json_body(request)
    if not isinstance(data, dict):
        raise BadRequest("The JSON body must be an object", code="MALFORMED_JSON")
    return parse_model(model, data)


def parse_query(request: chalice.app.Request, model: type[Model]) -> Model:
    return parse_model(model, dict(request.query_params or {}))


def pagination(total: int, page: int, limit: int) -> dict[str, int]:
    return {"total": total, "page": page, "pages": math.ceil(total / limit) if total else 0, "limit": limit}


# ---------------------------------------------------------------- error boundary


def _request_id(request: chalice.app.Request | None) -> str | None:
    """API Gateway's request id; the Lambda request id where there is none (chalice local)."""
    if request is None:
        return None
    from_gateway = (request.context or {}).get("requestId")
    if from_gateway:
        return str(from_gateway)
    lambda_context = getattr(request, "lambda_context", None)
    return getattr(lambda_context, "aws_request_id", None)


class Blueprint(chalice.app.Blueprint):
    """A Chalice Blueprint whose views map domain errors (and surprises) to the envelope.

    Routes keep `app.current_request`-style access through `bp.current_request`.
    """

    def route(self, path: str, **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        register = super().route(path, **kwargs)

        def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(view)
            def guarded(*args: Any, **kw: Any) -> Any:
                try:
                    return view(*args, **kw)
                except AppError as exc:
                    return app_error_response(exc)
                except Exception:
                    request = self.current_request
                    logger.exception("Unhandled error", extra={"route": path})
                    return error_response(500, "INTERNAL", "Internal error", requestId=_request_id(request))

            register(guarded)
            return view

        return decorator


# ---------------------------------------------------------------- app-level middleware

_CHALICE_CODES = {
    "MethodNotAllowedError": (405, "METHOD_NOT_ALLOWED", "Method not allowed"),
    "UnsupportedMediaType": (415, "UNSUPPORTED_MEDIA_TYPE", "Unsupported media type"),
    "BadRequestError": (400, "BAD_REQUEST", "Bad request"),
    "BadRequest": (400, "BAD_REQUEST", "Bad request"),
    "InternalServerError": (500, "INTERNAL", "Internal error"),
}


def _normalize_chalice_error(response: Response, request: chalice.app.Request | None) -> Response:
    """Chalice answers some errors itself (`{"Code", "Message"}`); put them in our envelope."""
    body = response.body
    if not isinstance(body, dict) or "Code" not in body or "success" in body:
        return response
    status, code, message = _CHALICE_CODES.get(body["Code"], (response.status_code, "ERROR", "Request failed"))
    extra: dict[str, Any] = {"requestId": _request_id(request)} if status >= 500 else {}
    headers = {k: str(v) for k, v in response.headers.items() if k.lower() == "allow"}
    return error_response(status, code, message, headers=headers, **extra)


def cors_headers(origin: str | None) -> dict[str, str]:
    if not origin or origin not in get_settings().allowed_origins:
        return {}
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Credentials": "true",
        "Vary": "Origin",
    }


def http_middleware(event: chalice.app.Request, get_response: Callable[..., Response]) -> Response:
    logger.set_correlation_id(_request_id(event))  # logs and the 500 body name the same request
    try:
        response = get_response(event)
    except AppError as exc:
        response = app_error_response(exc)
    response = _normalize_chalice_error(response, event)
    origin = event.headers.get("origin") if event.headers else None
    for key, value in {**SECURITY_HEADERS, **cors_headers(origin)}.items():
        response.headers.setdefault(key, value)
    return response


def install_preflight(app: chalice.app.Chalice) -> None:
    """Answer CORS preflight on every path from the allow-list (API Gateway's generated
    OPTIONS mock can only name one fixed origin)."""

    def preflight() -> Response:
        request = app.current_request
        assert request is not None
        resource_path = str(request.context.get("resourcePath", ""))
        methods = sorted(app.routes.get(resource_path, {}).keys())
        headers: dict[str, str | list[str]] = {**cors_headers(request.headers.get("origin"))}
        if headers:
            headers.update({
                "Access-Control-Allow-Methods": ", ".join(m for m in methods if m != "OPTIONS"),
                "Access-Control-Allow-Headers": CORS_ALLOW_HEADERS,
                "Access-Control-Max-Age": "600",
            })
        return Response(body="", status_code=204, headers=headers)

    for path, methods in list(app.routes.items()):
        if "OPTIONS" not in methods:
            app.route(path, methods=["OPTIONS"], name="cors_preflight")(preflight)
