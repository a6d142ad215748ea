"""Helpers for the auth, doctors, medical-history and admin tests (HTTP through the test client)."""

from __future__ import annotations

from typing import Any

from tests.factories import PASSWORD
from tests.http import API as API  # re-exported
from tests.http import body as body  # re-exported
from tests.http import call


def register(client: Any, **fields: Any) -> Any:
    payload = {"name": "Asha Rao", "contact": "asha@example.com", "password": PASSWORD, **fields}
    return call(client, "POST", "/register", json=payload)


def login(client: Any, contact: str, password: str = PASSWORD) -> Any:
    return call(client, "POST", "/login", json={"contact": contact, "password": password})


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
