"""Check an answer against what the OpenAPI document says of its route.

    response = call(client, "POST", "/orders", as_=patient, json={...})
    answer = documented(response, "POST", "/orders")  # the parsed body, once it matched

The suite's contract hook (tests/contract_schema.py) already checks every answer a test receives;
this says it in a test's own words, and returns the body. It uses the hook's document (the dev
stage's, every route) and its schema per route and status; the route is found by matching the path
against the document's templates (a literal segment wins over a variable, as in API Gateway). A
success answer is validated against the status's documented schema, an error answer against the
error envelope with the route's code enum (`x-error-codes`).
"""

from __future__ import annotations

import json
import re
from typing import Any

from jsonschema import Draft202012Validator

from tests import contract_schema

API = "/api/v1"


def document() -> dict[str, Any]:
    from app import app

    return contract_schema.document(app.routes)


def template(method: str, path: str) -> str:
    """The document's path template of a request path (`/order/66f...` -> `/api/v1/order/{order_id}`)."""
    path = API + path.split("?")[0]
    matches = []
    for candidate, operations in document()["paths"].items():
        if method.lower() not in operations:
            continue
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(candidate)) + "$"
        if re.match(pattern, path):
            literal = len(re.sub(r"\{[^}]+\}", "", candidate))
            matches.append((literal, candidate))
    assert matches, f"{method} {path} is not in the OpenAPI document"
    return max(matches)[1]


def schema_of(method: str, path: str, status: int) -> dict[str, Any]:
    schema = contract_schema.response_schema(document(), template(method, path), method, status)
    assert schema is not None, f"{method} {path}: {status} is not documented as JSON"
    return dict(schema)


def validate(schema: dict[str, Any], value: Any) -> None:
    """Raise jsonschema's ValidationError naming the first place `value` breaks `schema`."""
    rooted = {**schema, "components": document()["components"]}  # the `#/components/...` refs resolve here
    Draft202012Validator(rooted).validate(value)


def documented(response: Any, method: str, path: str) -> Any:
    """The parsed JSON body of `response`, asserted to be what the document says `method path`
    answers with its status."""
    answer = json.loads(response.body)
    validate(schema_of(method, path, response.status_code), answer)
    return answer
