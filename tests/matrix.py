"""What the authorization matrices (tests/integration/test_*_matrix.py) share: a row per route,
`(method, path, payload, {caller: status})`, one case per row and caller, and the check that every
route a domain registers has a row."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import pytest

Row = tuple[str, str, Any, dict[str, int]]


def generic(path: str) -> str:
    """A path with each `{placeholder}` written `{id}`."""
    return re.sub(r"\{[^}]+\}", "{id}", path)


def cases(routes: Iterable[Row], callers: Iterable[str]) -> list[Any]:
    """One `(method, path, payload, caller, status)` case per row and caller, named `METHOD path as caller`."""
    return [pytest.param(method, path, payload, caller, statuses[caller], id=f"{method} {path} as {caller}")
            for method, path, payload, statuses in routes for caller in callers]


def unlisted(app: Any, modules: str, routes: Iterable[Row], concrete: str | None = None) -> tuple[set[Any], set[Any]]:
    """(the routes whose views live in modules named `modules*` that have no row, the rows that are
    no such route), both as (method, generic path); `concrete` matches values a row writes where the
    route has a placeholder (a date, say)."""
    registered = {(method, generic(path.removeprefix("/api/v1"))) for path, methods in app.routes.items()
                  for method, entry in methods.items() if entry.view_function.__module__.startswith(modules)}
    assert registered, f"no route of {modules}"
    rows = {(method, generic(re.sub(concrete, "{id}", path) if concrete else path)) for method, path, _, _ in routes}
    return registered - rows, rows - registered
