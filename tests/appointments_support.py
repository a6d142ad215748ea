"""Fixtures and helpers shared by the appointments and reminders tests.

Import the fixtures you use into the test module (`from tests.appointments_support import api`).
The Twilio SDK runs for real; only its transport is replaced (`twilio.http.HttpClient`).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

import pytest
from twilio.http import HttpClient
from twilio.http.response import Response as TwilioResponse

from tests.factories import json_headers, make_user
from tests.http import body as body  # re-exported
from tests.http import call

SENDER = "no-reply@cureconnect.test"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:cureconnect-test-send_reminder"
ROLE_ARN = "arn:aws:iam::123456789012:role/cureconnect-scheduler"
TWILIO_SID = "AC" + "0" * 32
TWILIO_FROM = "+15005550006"


class FakeTwilio(HttpClient):
    """Records what the Twilio SDK sends and answers like the Messages API (or fails on demand)."""

    def __init__(self) -> None:
        super().__init__(logging.getLogger("fake-twilio"), is_async=False)
        self.requests: list[dict[str, Any]] = []
        self.fail = False

    def request(self, method: str, uri: str, params: Any = None, data: Any = None, headers: Any = None,
                auth: Any = None, timeout: Any = None, allow_redirects: bool = False) -> TwilioResponse:
        self.requests.append({"method": method, "uri": uri, "data": dict(data or {})})
        if self.fail:
            return TwilioResponse(503, json.dumps({"code": 20503, "message": "Service unavailable", "status": 503}))
        body = {"sid": f"SM{len(self.requests):032d}", "status": "queued", "to": (data or {}).get("To"),
                "from": (data or {}).get("From"), "body": (data or {}).get("Body"), "account_sid": TWILIO_SID}
        return TwilioResponse(201, json.dumps(body))

    @property
    def sms(self) -> list[dict[str, Any]]:
        return [r["data"] for r in self.requests if r["method"] == "POST" and r["uri"].endswith("/Messages.json")]


@pytest.fixture
def appt_env(monkeypatch: pytest.MonkeyPatch) -> None:
    from functions.core import config

    monkeypatch.setenv("REMINDER_FUNCTION_ARN", FUNCTION_ARN)
    monkeypatch.setenv("SCHEDULER_ROLE_ARN", ROLE_ARN)
    monkeypatch.setenv("SCHEDULER_GROUP", "default")
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", TWILIO_SID)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "twilio-test-token")
    monkeypatch.setenv("TWILIO_FROM_NUMBER", TWILIO_FROM)
    monkeypatch.setenv("SES_FROM_EMAIL", SENDER)
    monkeypatch.setenv("CANCEL_CUTOFF_MINUTES", "120")
    monkeypatch.setenv("REMINDER_OFFSETS_MINUTES", "1440,15")
    config.reset_settings()


@pytest.fixture
def twilio(monkeypatch: pytest.MonkeyPatch) -> FakeTwilio:
    from functions.core import notify

    fake = FakeTwilio()
    monkeypatch.setattr(notify, "twilio_http_client", lambda: fake)
    return fake


@pytest.fixture
def api(appt_env: None, client: Any, twilio: FakeTwilio, clock: Any) -> Any:
    """The app over a real database and moto, SES sender verified, Twilio transport stubbed,
    the clock frozen at Monday 2026-03-02 10:00 UTC (15:30 in Asia/Kolkata)."""
    import boto3

    boto3.client("ses").verify_email_identity(EmailAddress=SENDER)
    return client


# ---------------------------------------------------------------- helpers




def doctor(**fields: Any) -> dict[str, Any]:
    return make_user("doctor", **fields)


def patient(**fields: Any) -> dict[str, Any]:
    return make_user("patient", **fields)


def tick() -> None:
    """Requests a user sends one after the other arrive at different instants: move a frozen
    clock on by a millisecond (transitions refuse a change made at the instant they arrive)."""
    from functions.core import clock

    frozen = clock._now_fn
    if isinstance(frozen, clock.FrozenClock):
        frozen.advance(milliseconds=1)


def book(client: Any, who: dict[str, Any], doc: dict[str, Any], day: str = "2026-03-03", time: str = "09:00",
         **extra: Any) -> Any:
    payload = {"doctor": str(doc["_id"]), "description": "Recurring headache", "symptoms": "SECRET-SYMPTOM nausea",
               "day": day, "time": time, **extra}
    response = client.http.post("/api/v1/appointment/new", headers=json_headers(who),
                                body=json.dumps(payload).encode())
    tick()
    return response


def put(client: Any, who: dict[str, Any], path: str, payload: Any = None, *, then_tick: bool = True) -> Any:
    """PUT as `who`; `then_tick=False` for requests sent at the same moment as others."""
    response = call(client, "PUT", path, as_=who, json=payload)
    if then_tick:
        tick()
    return response


def get(client: Any, who: dict[str, Any] | None, path: str) -> Any:
    return call(client, "GET", path, as_=who)


def sent_emails() -> list[Any]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return list(ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages)


def schedules() -> dict[str, dict[str, Any]]:
    import boto3

    scheduler = boto3.client("scheduler")
    names = [s["Name"] for s in scheduler.list_schedules()["Schedules"]]
    return {name: scheduler.get_schedule(Name=name) for name in names}


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def concurrently(*calls: Any) -> list[Any]:
    """Run each zero-argument call in its own thread, all released at once by a barrier (many
    real clients, each its own request through the app); their results, in order."""
    import threading

    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = calls[i]()
        except BaseException as exc:  # surfaced to the test, never swallowed
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    errors = [r for r in results if isinstance(r, BaseException)]
    if errors:
        raise errors[0]
    return results


def providers_configured(monkeypatch: Any) -> FakeTwilio:
    """Twilio configured, its transport recorded (returned); SES's sender verified in moto."""
    import boto3

    from functions.core import config, notify

    for key, value in {"TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "TWILIO_AUTH_TOKEN": "t",
                       "TWILIO_FROM_NUMBER": "+15005550006", "SES_FROM_EMAIL": "no-reply@cureconnect.test"}.items():
        monkeypatch.setenv(key, value)
    config.reset_settings()
    boto3.client("ses").verify_email_identity(EmailAddress="no-reply@cureconnect.test")
    fake = FakeTwilio()
    monkeypatch.setattr(notify, "twilio_http_client", lambda: fake)
    return fake
