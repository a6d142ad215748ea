"""Suite-wide check (wired into the `client` fixture): no response body ever carries a password
hash or a field named like a password (D-03)."""

from __future__ import annotations

import functools
import json
from typing import Any


def _keys(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [str(k) for k in value] + [k for v in value.values() for k in _keys(v)]
    if isinstance(value, list):
        return [k for v in value for k in _keys(v)]
    return []


def assert_no_secrets(response: Any) -> None:
    body = response.body.decode("utf-8", "replace") if isinstance(response.body, bytes) else str(response.body)
    assert "$argon2" not in body, f"a password hash leaked in a response: {body[:300]}"
    try:
        payload = json.loads(body)
    except ValueError:
        return
    if isinstance(payload, dict) and "openapi" in payload and "paths" in payload:
        return  # the API's description names the password fields of its schemas; it holds no data
    leaked = [k for k in _keys(payload) if "password" in k.lower()]
    assert not leaked, f"password fields {leaked} in a response: {body[:300]}"


def scanning(http: Any) -> None:
    """Make every request of this test HTTP client check its response."""
    original = http.request

    @functools.wraps(original)
    def request(*args: Any, **kwargs: Any) -> Any:
        response = original(*args, **kwargs)
        assert_no_secrets(response)
        return response

    http.request = request
