"""The tests' one contract hook: every JSON answer the app gives a test is checked against the
schema the OpenAPI document promises for that route and status (issue 23).

`install()` (tests/conftest.py, once per session) wraps the Chalice app's dispatch of REST
events (`RestAPIEventHandler.__call__`, which every app's `__call__` hands a request to, ours
through `core.edge.EdgeRestHandler`), so every request a test sends through any test client,
`client.http.request` included, is covered. A 2xx answer is
checked against the route's response model (or the generic success envelope when the route
declares none), a 4xx/5xx answer against the error envelope, whose `code` must be one the route
lists when it declares its errors. An answer off its schema fails the test that received it.

The WebSocket frames the server sends are checked the same way: `install()` also wraps
`signaling.sender.send` (the one way a frame reaches a browser), and each frame must match the
AsyncAPI document's message of its `type` (`functions.signaling.asyncapi`).
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from jsonschema import Draft202012Validator

from functions.core import openapi

# per app (by its route table): the table, its document and the validators built so far
_CACHE: dict[int, dict[Any, Any]] = {}
GENERIC_ERROR = {"$ref": openapi.REF.format(model="ErrorEnvelope")}


class ContractViolation(AssertionError):
    """An answer that contradicts the document."""


def _cache(routes: dict[str, Any]) -> dict[Any, Any]:
    cache = _CACHE.get(id(routes))
    if cache is None or cache["routes"] is not routes:
        cache = _CACHE[id(routes)] = {"routes": routes}
    return cache


def document(routes: dict[str, Any]) -> dict[str, Any]:
    """The document of the app of route table `routes` in the dev stage (every route), built once."""
    cache = _cache(routes)
    if "document" not in cache:
        cache["document"] = openapi.build(SimpleNamespace(routes=routes), stage=openapi.DEV_STAGE)
    return dict(cache["document"])


def response_schema(doc: dict[str, Any], path: str, method: str, status: int) -> dict[str, Any] | None:
    """The JSON schema the document gives an answer of `status` to `method path` (a route
    template), or None when it documents no JSON body for it."""
    operation = doc["paths"].get(path, {}).get(method.lower())
    if operation is None:  # no such route (API Gateway's own 403/404, a preflight): the error envelope
        return GENERIC_ERROR if status >= 400 else None
    responses = operation["responses"]
    answer = responses.get(str(status)) or responses.get(f"{str(status)[0]}XX")
    if answer is None:
        raise ContractViolation(f"{method} {path} answered {status}, which its document does not list")
    content = answer.get("content", {}).get("application/json")
    return None if content is None else content["schema"]


def _validator(routes: dict[str, Any], path: str, method: str, status: int) -> Draft202012Validator | None:
    cache = _cache(routes)
    key = (path, method, status)
    if key not in cache:
        doc = document(routes)
        schema = response_schema(doc, path, method, status)
        cache[key] = None if schema is None else Draft202012Validator({**schema, "components": doc["components"]})
    validator: Draft202012Validator | None = cache[key]
    return validator


def check(routes: dict[str, Any], event: dict[str, Any], response: dict[str, Any]) -> None:
    """Raise ContractViolation when `response` (a Lambda proxy answer to `event`) is off the
    document."""
    if not isinstance(response, dict) or "statusCode" not in response:
        return
    headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
    if not str(headers.get("content-type", "")).startswith("application/json") or response.get("isBase64Encoded"):
        return
    context = event.get("requestContext") or {}
    path = context.get("resourcePath") or event.get("resource") or ""
    method = context.get("httpMethod") or event.get("httpMethod") or ""
    status = int(response["statusCode"])
    capture = os.environ.get("CONTRACT_CAPTURE")  # a JSON-lines file of every answer (writing models)
    if capture and response.get("body"):
        with open(capture, "a", encoding="utf-8") as out:
            out.write(json.dumps({"method": method, "path": path, "status": status,
                                  "body": json.loads(response["body"])}) + "\n")
    validator = _validator(routes, path, method, status)
    if validator is None or not response.get("body"):
        return
    body = json.loads(response["body"])
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
    if errors:
        raise ContractViolation(f"{method} {path} answered {status} off its documented schema: "
                                f"{_where(errors, '(body)')}\nbody: {response['body'][:600]}")


def _where(errors: list[Any], root: str) -> str:
    """The first five schema errors, each as `a/b: message`."""
    return "; ".join(f"{'/'.join(map(str, e.absolute_path)) or root}: {e.message[:200]}" for e in errors[:5])


def _check_once(owner: Any, name: str, checked: Callable[[Any], Any]) -> None:
    """Replace `owner.name` with `checked(original)`, unless it was replaced already."""
    original = getattr(owner, name)
    if getattr(original, "_contract_checked", False):
        return
    replacement = functools.wraps(original)(checked(original))
    replacement._contract_checked = True
    setattr(owner, name, replacement)


def install() -> None:
    """Check every answer of every Chalice app the tests dispatch REST requests to (idempotent)."""
    from chalice.app import RestAPIEventHandler

    def checked(original: Any) -> Any:
        def dispatch(self: RestAPIEventHandler, event: Any, context: Any) -> Any:
            response = original(self, event, context)
            if isinstance(event, dict) and "requestContext" in event:
                check(self.routes, event, response)
            return response

        return dispatch

    _check_once(RestAPIEventHandler, "__call__", checked)
    install_frames()


_FRAME_VALIDATORS: dict[str, Draft202012Validator] = {}


def check_frame(message: dict[str, Any]) -> None:
    """Raise ContractViolation when a frame the server sends is off the AsyncAPI document."""
    if not _FRAME_VALIDATORS:
        from functions.signaling import asyncapi

        doc = asyncapi.build()
        for key, entry in doc["channels"]["signaling"]["messages"].items():
            if key.startswith("type:"):
                _FRAME_VALIDATORS[entry["name"]] = Draft202012Validator(
                    {**entry["payload"], "components": doc["components"]})
    # the frame as it travels (sender.send encodes with default=str: ids and datetimes as strings)
    frame = json.loads(json.dumps(message, default=str))
    validator = _FRAME_VALIDATORS.get(str(frame.get("type")))
    if validator is None:
        raise ContractViolation(f"a WebSocket frame of undocumented type {frame.get('type')!r}: {str(frame)[:300]}")
    errors = list(validator.iter_errors(frame))
    if errors:
        raise ContractViolation(f"WebSocket frame {frame.get('type')!r} off its documented schema: "
                                f"{_where(errors, '(frame)')}\nframe: {str(frame)[:600]}")


def install_frames() -> None:
    """Check every frame the signaling domain posts to a connection (idempotent)."""
    from functions.signaling import sender

    def checked(original: Any) -> Any:
        def send(connection_id: str, message: dict[str, Any]) -> Any:
            check_frame(message)
            return original(connection_id, message)

        return send

    _check_once(sender, "send", checked)
