"""The tests' one way to send a request through the app and read its answer.

    response = call(client, "POST", "/orders", as_=patient, json={...})
    assert response.status_code == 201 and body(response)["order"]["orderNumber"]

`as_` signs the request in as that user (a bearer token); `json` is the body (bytes are sent as
they are); `headers` add to or replace the defaults. Paths are relative to the API's `/api/v1`.
The frontend's exact requests (cookie, proxy headers, numbers as strings) go through
tests/contract/frontend.py instead. `lambda_answer` is what the function itself hands API Gateway
(its proxy answer, `isBase64Encoded` included), for the binary paths.
"""

from __future__ import annotations

import json as jsonlib
from typing import Any

from tests.factories import json_headers

API = "/api/v1"


def call(client: Any, method: str, path: str, *, as_: dict[str, Any] | None = None, json: Any = None,
         headers: dict[str, str] | None = None) -> Any:
    raw = b"" if json is None else json if isinstance(json, bytes) else jsonlib.dumps(json).encode()
    return client.http.request(method, API + path, headers={**json_headers(as_), **(headers or {})}, body=raw)


def body(response: Any) -> Any:
    return jsonlib.loads(response.body)


def lambda_answer(app: Any, method: str, path: str, headers: dict[str, str], body: bytes = b"",
                  gateway_binary_types: list[str] | None = None) -> dict[str, Any]:
    """What the function hands API Gateway (the proxy integration's response), for `path`; the
    event as API Gateway builds it with `gateway_binary_types` (default: the app's own)."""
    from chalice.local import LambdaContext, LambdaEventConverter, RouteMatcher

    types = gateway_binary_types or app.api.binary_types
    event = LambdaEventConverter(RouteMatcher(list(app.routes)), types).create_lambda_event(
        method, f"{API}{path}", {k.lower(): v for k, v in headers.items()}, body)
    answer: dict[str, Any] = app(event, LambdaContext("api_handler", 512))
    return answer
