"""WebSocket frames follow the rules of every request: text with NUL or an unpaired surrogate is
refused (an `invalid` error frame naming the field), and a database that is away is an answer
(`$connect` 503, a `db_unavailable` error frame), never a Lambda error."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import make_user
from tests.faults import Fault, FaultPlan, inject
from tests.signaling_support import fresh_sockets


@pytest.fixture
def sockets(client: Any, chalice_app: Any, clock: Any) -> Any:
    with fresh_sockets(chalice_app) as driver:
        yield driver


def test_a_frame_with_nul_is_refused_naming_its_field(sockets: Any) -> None:
    cid = sockets.open(make_user("patient"))
    sockets.send(cid, {"action": "join-room", "roomId": "room\x00"})
    [error] = sockets.new_frames(cid)
    assert (error["type"], error["code"]) == ("error", "invalid")
    assert error["errors"] == [{"field": "roomId", "message": "must not contain NUL characters or unpaired surrogates"}]


@pytest.mark.parametrize("fault", list(Fault))
def test_a_database_away_refuses_the_connection_and_answers_frames(sockets: Any, db: Any, fault: Fault) -> None:
    patient = make_user("patient")
    # When the database does not answer at $connect, Then the gateway is told 503 and nothing is kept
    with inject(FaultPlan(fail_at=1, fault=fault)):
        _, status = sockets.connect(patient)
    assert status == 503
    # Given an open connection, When the database does not answer a frame
    cid = sockets.open(patient)
    with inject(FaultPlan(fail_at=1, fault=fault)):
        answer = sockets.send(cid, {"action": "ping"})
    # Then the frame is answered with db_unavailable and the connection stays usable
    assert answer["statusCode"] == 200
    assert [(f["type"], f["code"]) for f in sockets.new_frames(cid)] == [("error", "db_unavailable")]
    sockets.send(cid, {"action": "ping"})
    assert [f["type"] for f in sockets.new_frames(cid)] == ["pong"]
