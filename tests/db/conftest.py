"""Fixtures of the conformance suite: a scratch collection on the server under test, and what
that server is (the expected failures of the embedded FerretDB are strict only there)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest


@pytest.fixture(scope="session")
def is_ferretdb(admin_client: Any) -> bool:
    return "ferretdb" in {k.lower() for k in admin_client.admin.command("buildInfo")} or \
        "ferretdb" in str(admin_client.admin.command("buildInfo")).lower()


@pytest.fixture
def coll(db: Any) -> Iterator[Any]:
    """An empty collection in the test's own database."""
    yield db["conformance"]


@pytest.fixture
def ids(coll: Any) -> Callable[..., list[Any]]:
    """The sorted `_id`s a filter matches: `ids({"a": 1})`."""

    def matching(query: dict[str, Any], **kw: Any) -> list[Any]:
        return sorted(doc["_id"] for doc in coll.find(query, {"_id": 1}, **kw))

    return matching


@pytest.fixture
def differs_on_ferretdb(request: pytest.FixtureRequest, is_ferretdb: bool) -> Callable[[str], None]:
    """Marks the running test as an expected failure on FerretDB (strict: a fixed server shows up)."""

    def mark(reason: str) -> None:
        if is_ferretdb:
            request.applymarker(pytest.mark.xfail(strict=True, reason=reason))

    return mark
