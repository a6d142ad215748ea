"""Issue 21 on the WebSocket `$connect`: besides the per-user cap (the oldest closed), new
connections are rated per client address (`WS_CONNECTS_PER_IP_PER_MINUTE`, taken before the token
is checked) and from everywhere (`WS_CONNECTS_PER_MINUTE`, taken by authenticated connects only);
over either, `$connect` is refused with 429 and the refusal counted."""

from __future__ import annotations

import json

import pytest

from functions.core.security import issue_token
from tests.factories import make_user
from tests.lambda_race import race_calls
from tests.signaling_support import fresh_sockets, ws_event


def _settings(monkeypatch, **values: str) -> None:
    from functions.core import config

    for name, value in values.items():
        monkeypatch.setenv(name, value)
    config.reset_settings()


def _connect(chalice_app, token: str | None, address: str, cid: str) -> int:
    event = ws_event("$connect", cid, query={"token": token} if token else None)
    event["requestContext"]["identity"]["sourceIp"] = address
    with fresh_sockets(chalice_app) as driver:
        return int(driver.invoke("ws_connect", event)["statusCode"])


def _live(db) -> int:
    from functions.core import clock

    return db["connections"].count_documents({"expiresAt": {"$gt": clock.now()}})


def test_twenty_connects_at_once_from_one_address_let_in_exactly_its_rate(client, chalice_app, clock, db,
                                                                           monkeypatch):
    # Given a rate of 5 new connections a minute per address, and 20 users behind one address
    _settings(monkeypatch, WS_CONNECTS_PER_IP_PER_MINUTE="5")
    tokens = [issue_token(make_user("patient"))[0] for _ in range(20)]
    # When their 20 `$connect`s run at the same moment, each in its own container
    statuses = race_calls(lambda i: _connect(chalice_app, tokens[i], "198.51.100.9", f"Ip{i:04d}conn="), 20)
    # Then exactly 5 are let in, the others refused with 429
    assert sorted(statuses) == [200] * 5 + [429] * 15
    assert _live(db) == 5
    # And another address is not affected
    assert _connect(chalice_app, tokens[0], "203.0.113.4", "Other0001conn=") == 200


def test_twenty_connects_at_once_from_twenty_addresses_let_in_exactly_the_global_rate(client, chalice_app, clock, db,
                                                                                     monkeypatch):
    # Given a rate of 5 new connections a minute from everywhere
    _settings(monkeypatch, WS_CONNECTS_PER_MINUTE="5")
    tokens = [issue_token(make_user("patient"))[0] for _ in range(20)]
    # When 20 users connect at the same moment, each from its own address
    statuses = race_calls(lambda i: _connect(chalice_app, tokens[i], f"198.51.100.{i}", f"All{i:04d}conn="), 20)
    # Then exactly 5 are let in
    assert sorted(statuses) == [200] * 5 + [429] * 15
    assert _live(db) == 5
    # And a minute later there is room again
    clock.advance(minutes=1, seconds=1)
    assert _connect(chalice_app, tokens[0], "198.51.100.99", "Later001conn=") == 200


def test_failed_handshakes_spend_their_address_budget_not_the_global_one(client, chalice_app, clock, monkeypatch):
    # Given a rate of 3 per address and of 3 from everywhere
    _settings(monkeypatch, WS_CONNECTS_PER_IP_PER_MINUTE="3", WS_CONNECTS_PER_MINUTE="3")
    token = issue_token(make_user("patient"))[0]
    # When an address floods handshakes without a valid token, and many addresses do too
    flood = [_connect(chalice_app, "not-a-token", "198.51.100.7", f"Bad{i:04d}conn=") for i in range(4)]
    for n in range(10):
        assert _connect(chalice_app, None, f"192.0.2.{n}", f"Anon{n:04d}conn=") == 403
    # Then the flooding address is refused even with a valid token, after its 3 tries
    assert flood == [403, 403, 403, 429]
    assert _connect(chalice_app, token, "198.51.100.7", "Good0001conn=") == 429
    # And the global budget was spent by none of them: a user elsewhere gets in
    assert _connect(chalice_app, token, "203.0.113.8", "Good0002conn=") == 200


def test_a_refused_connect_is_counted_by_its_limit(client, chalice_app, clock, monkeypatch,
                                                   capsys: pytest.CaptureFixture[str]):
    # Given a rate of 1 per address
    _settings(monkeypatch, WS_CONNECTS_PER_IP_PER_MINUTE="1")
    token = issue_token(make_user("patient"))[0]
    # When a second connect from that address is refused
    assert _connect(chalice_app, token, "198.51.100.3", "Cnt00001conn=") == 200
    assert _connect(chalice_app, token, "198.51.100.3", "Cnt00002conn=") == 429
    # Then RateLimitRefused names the limit
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]
    assert [doc["limit"] for doc in lines if "RateLimitRefused" in doc] == ["ws-connect-ip"]
