"""Shared fixtures.

- one database server per test run: the embedded FerretDB v1.24.2 (patched; on PostgreSQL where
  installed, else SQLite) or MONGODB_URI if set;
- one database for the tests that use one (`db`), with every declared index, emptied after each;
- moto (`mock_aws`) for AWS; `chalice.test.Client` for routes; a frozen clock.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

# Shared fixtures of the appointments suites (api, appt_env, twilio).
pytest_plugins = ("tests.appointments_support", "tests.db.capture")

TEST_SECRET = "test-secret-that-is-long-enough-0123456789"
TEST_MFA_KEY = "_IpqnLmtc7zfojhf1P9xA_VOuWyh5eSskdq-K9TK9dM="  # a Fernet key (tests only)
ALLOWED_ORIGIN = "https://app.cureconnect.test"

# Before anything imports boto3 or Powertools.
os.environ.update({
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "POWERTOOLS_TRACE_DISABLED": "1",
    "POWERTOOLS_METRICS_NAMESPACE": "CureConnectTest",
    "OUTBOX_DELIVERY": "inline",  # the outbox delivers at once, in the request (core.outbox.kick)
})
os.environ.pop("AWS_ENDPOINT_URL", None)


def pytest_configure(config: pytest.Config) -> None:
    """The contract hook (tests/contract_schema.py): every JSON answer any test receives from a
    Chalice app is checked against the route's documented schema for its status."""
    from tests.contract_schema import install

    install()


@pytest.fixture(scope="session")
def mongo_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    external = os.environ.get("MONGODB_URI")
    if external:
        yield external
        return
    from local.embedded_db import EmbeddedDB

    db = EmbeddedDB(tmp_path_factory.mktemp("ferretdb"), durable=False).start()
    try:
        yield db.uri
    finally:
        db.stop()


@pytest.fixture(autouse=True)
def settings_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Environment every test starts from; a test may monkeypatch more and call reset_settings()."""
    from functions.core import config

    monkeypatch.setenv("MONGODB_URI", os.environ.get("MONGODB_URI", "mongodb://127.0.0.1:1/"))
    monkeypatch.setenv("MONGODB_DB", f"t_{uuid.uuid4().hex[:12]}")
    monkeypatch.setenv("JWT_SECRET", TEST_SECRET)
    monkeypatch.setenv("ALLOWED_ORIGINS", ALLOWED_ORIGIN)
    monkeypatch.setenv("COOKIE_SECURE", "true")
    monkeypatch.setenv("APP_BASE_URL", "https://app.cureconnect.test")
    monkeypatch.setenv("STAGE", "test")
    monkeypatch.setenv("MFA_ENCRYPTION_KEY", TEST_MFA_KEY)  # required outside the dev stage
    config.reset_settings()
    yield
    config.reset_settings()


@pytest.fixture(scope="session")
def admin_client(mongo_uri: str) -> Iterator[Any]:
    """The test run's own connection, for setup and cleanup (the app may be pointed elsewhere)."""
    from pymongo import MongoClient

    client: MongoClient[dict[str, Any]] = MongoClient(mongo_uri, tz_aware=True)
    yield client
    client.close()


# The database the `db` fixture hands every test, emptied between tests (not dropped): creating
# every declared index costs ~0.7 s of DDL on the embedded server (PostgreSQL tables and the
# index-order companions' columns), emptying its collections a few milliseconds.
TEST_DB = f"t_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def db(mongo_uri: str, admin_client: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A database with every declared index and no document; emptied after the test."""
    from functions.core import config
    from functions.registry import ensure_indexes

    monkeypatch.setenv("MONGODB_URI", mongo_uri)
    monkeypatch.setenv("MONGODB_DB", TEST_DB)
    config.reset_settings()
    database = admin_client[TEST_DB]
    ensure_indexes(database)  # after an emptying: every index there already, nothing created
    yield database
    _empty(database)


def _empty(database: Any) -> None:
    """What a test left, gone: the declared collections emptied, if their indexes are still
    exactly the declared ones; every other collection (a conformance test's, an index a test
    added or dropped) dropped, so the next `ensure_indexes` makes it again as declared."""
    from functions.registry import collect_indexes

    declared = {name: {model.document["name"] for model in models} for name, models in collect_indexes().items()}
    for name in database.list_collection_names():
        collection = database[name]
        if name in declared and set(collection.index_information()) - {"_id_"} == declared[name]:
            collection.delete_many({})
        else:
            collection.drop()


@pytest.fixture
def aws() -> Iterator[None]:
    from moto import mock_aws

    with mock_aws():
        yield


@pytest.fixture
def clock() -> Iterator[Any]:
    """Time stands still at 2026-03-02 10:00 UTC (a Monday) until the test moves it."""
    from functions.core import clock as core_clock

    frozen = core_clock.FrozenClock(datetime(2026, 3, 2, 10, 0, tzinfo=UTC))
    core_clock.set_now(frozen)
    yield frozen
    core_clock.set_now(None)


@pytest.fixture(scope="session")
def chalice_app() -> Any:
    from local.gateway_responses import install

    install()
    from app import app

    return app


@pytest.fixture
def client(chalice_app: Any, db: Any, aws: None) -> Any:
    """HTTP test client over the full app, with a real database and moto."""
    from chalice.test import Client

    from functions.core.config import get_settings

    get_settings()  # read our env now, not the client's patched one
    # A project dir without .chalice/ keeps stage variables out of the tests' environment.
    with Client(chalice_app, project_dir=str(Path(__file__).parent)) as test_client:
        from tests.secrets_scan import scanning

        scanning(test_client.http)  # every response of the suite: no password hash or field (D-03)
        yield test_client


@pytest.fixture
def json_log_lines() -> Iterator[list[str]]:
    """The application's log lines exactly as Powertools writes them in Lambda (JSON, extra keys included)."""
    import logging

    from functions.core.observability import logger as app_logger

    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handler = Collect()
    handler.setFormatter(app_logger.registered_formatter)
    target = logging.getLogger(app_logger.name)
    level = target.level
    target.addHandler(handler)
    target.setLevel(logging.DEBUG)
    yield lines
    target.removeHandler(handler)
    target.setLevel(level)
