"""A request's body and query validated into pydantic models, with the envelope's field errors
(`errors: [{field: "a.b", message}]`, and the first of them as `message`, which is all the
existing frontend shows). pydantic is imported on first validation: routes that parse nothing
never pay for it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

import chalice.app

from functions.core import bodies
from functions.core.errors import ValidationFailed

if TYPE_CHECKING:
    from pydantic import BaseModel, ValidationError

Model = TypeVar("Model", bound="BaseModel")


def field_errors(exc: ValidationError) -> list[dict[str, str]]:
    out = []
    for err in exc.errors(include_url=False, include_input=False):
        path = ".".join(str(p) for p in err["loc"] if p != "__root__") or "body"
        message = err["msg"]
        if err["type"] == "extra_forbidden":
            message = "Unknown field"
        out.append({"field": path, "message": message})
    return out


def first_error_message(errors: list[dict[str, str]]) -> str:
    """The `message` of a 400 built from field errors: the first failing field and what is wrong
    with it (the existing frontend shows only `message`, never `errors[]`)."""
    if not errors:
        return "Validation failed"
    first = errors[0]
    text = first["message"].removeprefix("Value error, ")  # pydantic's prefix for a validator's ValueError
    return text if first["field"] == "body" else f"{first['field']}: {text}"


def parse_model(model: type[Model], data: Any) -> Model:
    from pydantic import ValidationError

    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = field_errors(exc)
        raise ValidationFailed(first_error_message(errors), errors=errors) from None


def media_type(request: chalice.app.Request) -> str | None:
    """The request's media type (`bodies.media_type`)."""
    return bodies.media_type(request.headers)


def read_body(request: chalice.app.Request, rules: bodies.BodyRules = bodies.FLAT) -> bodies.FormBody:
    """The request's body under the route's `rules` (`bodies.read_body`)."""
    return bodies.read_body(request.headers, request.raw_body, rules)


def parse_body(request: chalice.app.Request, model: type[Model], rules: bodies.BodyRules = bodies.FLAT) -> Model:
    """Validate the body into `model`: JSON, or form fields where the route declared them."""
    return parse_model(model, read_body(request, rules).data)


def parse_query(request: chalice.app.Request, model: type[Model]) -> Model:
    return parse_model(model, dict(request.query_params or {}))
