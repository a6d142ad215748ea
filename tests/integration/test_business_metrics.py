"""Business metrics reach CloudWatch as embedded-metric-format lines (one per invocation, or one
per refusal for RateLimitRefused): a request that causes an event writes its metric."""

from __future__ import annotations

import json
from typing import Any

import pytest

from functions.core.metrics import Metric
from tests.auth_support import login
from tests.factories import make_user
from tests.signaling_support import fresh_sockets


def emf(out: str) -> list[dict[str, Any]]:
    """The EMF documents among the lines written to stdout."""
    lines = [json.loads(line) for line in out.splitlines() if line.startswith('{"_aws"')]
    return [line for line in lines if line["_aws"]["CloudWatchMetrics"]]


def counted(out: str, metric: Metric) -> float:
    return sum(sum(doc.get(metric.value, [])) for doc in emf(out))


@pytest.fixture
def sockets(client: Any, chalice_app: Any, clock: Any) -> Any:
    with fresh_sockets(chalice_app) as driver:
        yield driver


def test_a_locked_login_counts_a_refusal_named_by_its_limit(client: Any, capsys: pytest.CaptureFixture[str]) -> None:
    # Given an account, When someone guesses wrong until the lockout refuses
    make_user("patient", contact="ravi@example.com")
    for _ in range(6):
        login(client, "ravi@example.com", "wrong-guess-1")
    out = capsys.readouterr().out
    # Then RateLimitRefused was written with the limit's name, in the namespace and service of the stack
    refusals = [doc for doc in emf(out) if "RateLimitRefused" in doc]
    assert refusals and {doc["limit"] for doc in refusals} <= {"login", "login-ip"}
    assert {doc["service"] for doc in refusals} == {"cureconnect"}
    from functions.core.observability import metrics

    assert {doc["_aws"]["CloudWatchMetrics"][0]["Namespace"] for doc in refusals} == {metrics.namespace}


def test_connections_refused_frames_and_emergencies_are_counted(sockets: Any,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    # Given a patient and an online doctor
    patient, doctor = make_user("patient"), make_user("doctor")
    p, d = sockets.open(patient), sockets.open(doctor)
    sockets.send(d, {"action": "doctorConnect"})
    capsys.readouterr()
    # When the patient raises an emergency, the doctor accepts it, and a frame is refused
    sockets.send(p, {"action": "emergencyRequest", "note": "chest pain"})
    created = next(f for f in sockets.frames(p) if f["type"] == "emergency-created")
    sockets.send(d, {"action": "emergency-accept", "sessionId": created["sessionId"]})
    sockets.send(p, {"action": "no-such-action"})
    out = capsys.readouterr().out
    # Then each is in the metrics
    assert counted(out, Metric.EMERGENCY_RAISED) == 1
    assert counted(out, Metric.EMERGENCY_ACCEPTED) == 1
    assert counted(out, Metric.WEBSOCKET_FRAME_REFUSED) == 1
    sockets.open(make_user("patient"))
    assert counted(capsys.readouterr().out, Metric.WEBSOCKET_CONNECTED) == 1


def test_bookings_and_cancellations_are_counted_by_who(api: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.appointments_support import body, book, doctor, patient, put

    # Given two bookings
    doc, first, second = doctor(), patient(), patient()
    one = body(book(api, first, doc, time="09:00"))["appointment"]["_id"]
    two = body(book(api, second, doc, time="10:00"))["appointment"]["_id"]
    # When the patient cancels one and the doctor the other
    assert put(api, first, f"/appointment/{one}/cancel", {"reason": "better"}).status_code == 200
    assert put(api, doc, f"/appointment/{two}/cancel", {"reason": "away"}).status_code == 200
    out = capsys.readouterr().out
    # Then the metrics say so
    assert counted(out, Metric.APPOINTMENT_BOOKED) == 2
    assert counted(out, Metric.APPOINTMENT_CANCELLED_BY_PATIENT) == 1
    assert counted(out, Metric.APPOINTMENT_CANCELLED_BY_DOCTOR) == 1
