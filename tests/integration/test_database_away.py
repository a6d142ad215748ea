"""When the database is away the API says so (503 `DB_UNAVAILABLE`, `Retry-After`), quickly and
without a traceback, and serves again once it is back, with no restart of the API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.auth_support import body, register

WAIT_FOR_RETURN_ATTEMPTS = 200  # only a guard against a hang: each failed attempt waits out server selection


@pytest.fixture
def own_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """An embedded database of this test's own, which the test stops and starts again."""
    from functions.core import config
    from local.embedded_db import EmbeddedDB

    server = EmbeddedDB(tmp_path / "db", backend="sqlite", durable=False).start()
    monkeypatch.setenv("MONGODB_URI", server.uri)
    monkeypatch.setenv("MONGODB_TIMEOUT_MS", "300")
    config.reset_settings()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def api(chalice_app: Any, own_server: Any, aws: None) -> Iterator[Any]:
    from chalice.test import Client

    from functions.core.config import get_settings

    get_settings()
    with Client(chalice_app, project_dir=str(Path(__file__).parent.parent)) as test_client:
        yield test_client


def _register(api: Any, contact: str) -> Any:
    return register(api, contact=contact)


def test_routes_answer_503_while_the_database_is_away_and_serve_again_after(api: Any, own_server: Any,
                                                                              json_log_lines: list[str]) -> None:
    # Given a running API whose database answers
    assert api.http.get("/api/v1/doctors").status_code == 200
    # When the database process stops
    own_server.stop()
    # Then reads, sign-ups and the health check answer 503 DB_UNAVAILABLE with Retry-After
    for response in (api.http.get("/api/v1/doctors"), _register(api, "asha@example.com"),
                     api.http.get("/api/v1/health")):
        assert response.status_code == 503
        assert body(response)["code"] == "DB_UNAVAILABLE"
        assert body(response)["success"] is False
        assert int(response.headers["Retry-After"]) > 0
    # And the log says so once per request, with no traceback
    away = [line for line in json_log_lines if "Database unavailable" in line]
    assert len(away) == 2  # the health check reports in its answer, not the log
    assert not any("Traceback" in line for line in json_log_lines)
    # When it starts again (same address), without any restart of the API
    own_server.start()
    # Then requests succeed again
    for _ in range(WAIT_FOR_RETURN_ATTEMPTS):
        if api.http.get("/api/v1/doctors").status_code == 200:
            break
    assert api.http.get("/api/v1/doctors").status_code == 200
    assert _register(api, "asha@example.com").status_code == 201
    assert api.http.get("/api/v1/health").status_code == 200


def test_an_error_the_database_answered_is_not_mistaken_for_its_absence() -> None:
    from pymongo.errors import (
        AutoReconnect,
        DuplicateKeyError,
        NetworkTimeout,
        OperationFailure,
        ServerSelectionTimeoutError,
    )

    from functions.core.db import is_database_away

    assert is_database_away(ServerSelectionTimeoutError("no servers"))
    assert is_database_away(AutoReconnect("connection reset"))
    assert is_database_away(NetworkTimeout("timed out"))
    assert not is_database_away(DuplicateKeyError("E11000"))
    assert not is_database_away(OperationFailure("invalid value", code=2))
    assert not is_database_away(KeyError("kind"))
