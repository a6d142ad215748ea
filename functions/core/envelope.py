"""The JSON envelope every answer uses: encoding (ids as strings, instants as UTC ISO 8601 with
`Z`), `{"success": true, ...}` for successes and `{"success": false, message, code, errors}`
for errors (ARCHITECTURE §4)."""

from __future__ import annotations

import json
import sys
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from bson import ObjectId
from chalice.app import Response

from functions.core.errors import AppError, Code

JSON_HEADERS = {"Content-Type": "application/json"}


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
    pydantic = sys.modules.get("pydantic")  # not imported: value cannot be a model
    if pydantic is not None and isinstance(value, pydantic.BaseModel):
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


def error_body(status: int, code: Code, message: str, errors: list[dict[str, str]] | None = None,
               **extra: Any) -> dict[str, Any]:
    return {"success": False, "message": message, "code": code, "errors": errors or [], **extra}


def error_response(status: int, code: Code, message: str, errors: list[dict[str, str]] | None = None,
                   headers: dict[str, str] | None = None, **extra: Any) -> Response:
    all_headers: dict[str, str | list[str]] = {**JSON_HEADERS, **(headers or {})}
    return Response(body=to_json(error_body(status, code, message, errors, **extra)), status_code=status,
                    headers=all_headers)


def app_error_response(exc: AppError) -> Response:
    return error_response(exc.status, exc.code, exc.message, exc.errors, exc.headers, **exc.extra)
