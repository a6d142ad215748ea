"""Helpers for the auth, doctors, medical-history and admin tests (HTTP through the test client)."""

from __future__ import annotations

import json
from typing import Any

from tests.factories import PASSWORD

API = "/api/v1"


def body(response: Any) -> Any:
    return json.loads(response.body)


def call(client: Any, method: str, path: str, payload: Any = None, headers: dict[str, str] | None = None) -> Any:
    raw = b"" if payload is None else json.dumps(payload).encode()
    hdrs = {"Content-Type": "application/json", **(headers or {})}
    return client.http.request(method, API + path, headers=hdrs, body=raw)


def register(client: Any, **fields: Any) -> Any:
    payload = {"name": "Asha Rao", "contact": "asha@example.com", "password": PASSWORD, **fields}
    return call(client, "POST", "/register", payload)


def login(client: Any, contact: str, password: str = PASSWORD) -> Any:
    return call(client, "POST", "/login", {"contact": contact, "password": password})


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def cookie_attributes(set_cookie: str) -> dict[str, str]:
    """`token=…; Path=/; HttpOnly` → {"token": "…", "path": "/", "httponly": ""}."""
    out = {}
    for i, part in enumerate(p.strip() for p in set_cookie.split(";")):
        name, _, value = part.partition("=")
        out[name if i == 0 else name.lower()] = value
    return out


def field_paths(response: Any) -> list[str]:
    return [e["field"] for e in body(response)["errors"]]
