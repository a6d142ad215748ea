"""`core.throttle`, the one rate limiter, on the real database: anchored windows, all-or-nothing
claims, takes given back, windows cleared and purged, and bursts of containers that get exactly
the limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from functions.core import throttle
from functions.core.errors import Code, RateLimited
from functions.core.throttle import Limit
from tests.lambda_race import race_calls

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
CODES = Limit("codes", 3, timedelta(hours=1), Code.TOO_MANY_CODES, "Too many codes asked for")
PER_ADDRESS = Limit("login-here", 2, timedelta(minutes=15), Code.LOGIN_LOCKED, "Too many failed attempts")
PER_CONTACT = Limit("login-anywhere", 5, timedelta(minutes=15), Code.LOGIN_LOCKED, "Too many failed attempts")
CONTAINERS = 20


def window(db: Any, limit: Limit, key: str) -> dict[str, Any] | None:
    found: dict[str, Any] | None = db[throttle.COLLECTION].find_one({"_id": limit.window_id(key)})
    return found


def test_a_window_takes_its_limit_then_refuses_until_it_ends(db: Any) -> None:
    # Given three codes an hour per user, the first asked for at 10:00
    for minute in (0, 10, 20):
        throttle.take(CODES, "u1", NOW + timedelta(minutes=minute))
    # When a fourth is asked for at 10:30
    with pytest.raises(RateLimited) as refused:
        throttle.take(CODES, "u1", NOW + timedelta(minutes=30))
    # Then it is a 429 with the limit's code and message, due back when the window ends (11:00),
    # and the refused take was not counted
    assert (refused.value.status, refused.value.code, refused.value.message) == (
        429, Code.TOO_MANY_CODES, "Too many codes asked for")
    assert refused.value.retry_after == 30 * 60 and refused.value.headers["Retry-After"] == "1800"
    assert window(db, CODES, "u1")["count"] == 3
    # And another user's budget is their own
    assert throttle.try_take(CODES, "u2", NOW + timedelta(minutes=30))


def test_a_take_after_the_window_ended_opens_a_new_one(db: Any) -> None:
    # Given a full window opened at 10:00
    for _ in range(3):
        throttle.take(CODES, "u1", NOW)
    # When the next take comes at 11:05 (the window ended at 11:00; nothing purged it)
    later = NOW + timedelta(hours=1, minutes=5)
    throttle.take(CODES, "u1", later)
    # Then a new window starts then, with this one take
    assert {k: window(db, CODES, "u1")[k] for k in ("count", "since", "expiresAt", "bucket")} == {
        "count": 1, "since": later, "expiresAt": later + timedelta(hours=1), "bucket": "2026-03-02T12"}


def test_a_counted_take_tells_how_many_were_taken_in_the_window(db: Any) -> None:
    # Given twenty messages a day to one recipient
    daily = Limit("messages", 20, timedelta(days=1))
    # When messages are counted through the day, and again after it ended
    counts = [throttle.take_counted(daily, "a@x", NOW + timedelta(hours=h)) for h in range(22)]
    next_day = throttle.take_counted(daily, "a@x", NOW + timedelta(days=1, hours=1))
    # Then each knows its rank (for a lower threshold of the caller's own), the 21st and 22nd are
    # refused uncounted, and a new window starts the next day
    assert counts == [*range(1, 21), None, None] and next_day == 1


def test_claiming_several_limits_is_all_or_nothing(db: Any) -> None:
    # Given a contact whose attempts from one address are used up (2), with room overall (5)
    throttle.take_all([(PER_ADDRESS, "ip1|a@x"), (PER_CONTACT, "a@x")], NOW)
    throttle.take_all([(PER_ADDRESS, "ip1|a@x"), (PER_CONTACT, "a@x")], NOW + timedelta(minutes=5))
    # When a third attempt from that address claims both
    with pytest.raises(RateLimited) as refused:
        throttle.take_all([(PER_ADDRESS, "ip1|a@x"), (PER_CONTACT, "a@x")], NOW + timedelta(minutes=6))
    # Then it is refused until the address's window ends, and the contact's take was given back
    assert (refused.value.code, refused.value.retry_after) == (Code.LOGIN_LOCKED, 9 * 60)
    assert window(db, PER_CONTACT, "a@x")["count"] == 2
    # And from another address the same contact still may try
    throttle.take_all([(PER_ADDRESS, "ip2|a@x"), (PER_CONTACT, "a@x")], NOW + timedelta(minutes=6))
    assert window(db, PER_CONTACT, "a@x")["count"] == 3


def test_takes_given_back_settled_and_cleared(db: Any) -> None:
    # Given two failed attempts from an address and three for the contact
    for _ in range(2):
        throttle.take_all([(PER_ADDRESS, "ip1|a@x"), (PER_CONTACT, "a@x")], NOW)
    throttle.take(PER_CONTACT, "a@x", NOW)
    # When a login succeeds (the address's failures forgotten, its attempt given back overall)
    throttle.settle(reset=[(PER_ADDRESS, "ip1|a@x")], give_back=[(PER_CONTACT, "a@x")])
    # Then the address starts from zero and the contact counts one less
    assert (window(db, PER_ADDRESS, "ip1|a@x")["count"], window(db, PER_CONTACT, "a@x")["count"]) == (0, 2)
    # And a give-back never goes below zero; clearing ends the window
    for _ in range(3):
        throttle.give_back(PER_CONTACT, "a@x")
    assert window(db, PER_CONTACT, "a@x")["count"] == 0
    throttle.clear(PER_CONTACT, "a@x")
    assert window(db, PER_CONTACT, "a@x") is None


def test_the_sweeper_purges_windows_that_ended(db: Any) -> None:
    # Given a window of 15 minutes opened at 10:00 and one of an hour opened at 10:30
    throttle.take(PER_ADDRESS, "ip1|a@x", NOW)
    throttle.take(CODES, "u1", NOW + timedelta(minutes=30))
    # When the platform sweeper runs at 11:20 (the first ended at 10:15, the second at 11:30)
    from functions import registry

    counts = registry.sweep(NOW + timedelta(hours=1, minutes=20))
    # Then only the ended one is gone
    assert counts["rateLimitsPurged"] == 1
    assert window(db, PER_ADDRESS, "ip1|a@x") is None and window(db, CODES, "u1") is not None


@pytest.mark.parametrize("ended_window", [False, True])
def test_twenty_containers_taking_at_once_get_exactly_the_limit(db: Any, ended_window: bool) -> None:
    # Given a limit of 7, with no window yet or with a full one that has ended
    limit = Limit("burst", 7, timedelta(minutes=1))
    if ended_window:
        db[throttle.COLLECTION].insert_one({"_id": limit.window_id("k"), "count": 7, "since": NOW - timedelta(hours=1),
                                            "expiresAt": NOW - timedelta(minutes=59), "bucket": "2026-03-02T09"})
    # When twenty containers take at the same moment
    taken = race_calls(lambda _: throttle.try_take(limit, "k", NOW), CONTAINERS)
    # Then exactly seven get through, and the window counts seven
    assert taken.count(True) == 7 and taken.count(False) == CONTAINERS - 7
    assert window(db, limit, "k")["count"] == 7


def test_a_claim_of_several_limits_is_marked_and_a_refusal_after_a_take_gives_it_back(db: Any) -> None:
    # Given a contact whose attempts overall are used up (5), from an address with room (0 of 2)
    for n in range(5):
        throttle.take(PER_CONTACT, "b@x", NOW + timedelta(minutes=n))
    # When a fresh contact claims both limits, then the locked contact does (the address first)
    token = throttle.take_all([(PER_ADDRESS, "ip1|c@x"), (PER_CONTACT, "c@x")], NOW)
    with pytest.raises(RateLimited) as refused:
        throttle.take_all([(PER_ADDRESS, "ip1|b@x"), (PER_CONTACT, "b@x")], NOW + timedelta(minutes=6))
    # Then the fresh contact's takes count, marked with the token that gives exactly them back
    assert window(db, PER_ADDRESS, "ip1|c@x")["takes"] == {token: NOW}
    throttle.settle(reset=[(PER_ADDRESS, "ip1|c@x")], give_back=[(PER_CONTACT, "c@x")], token=token)
    throttle.settle(give_back=[(PER_CONTACT, "c@x")], token=token)
    assert (window(db, PER_ADDRESS, "ip1|c@x")["count"], window(db, PER_CONTACT, "c@x")["count"]) == (0, 0)
    # And the locked contact waits for its overall window, its address's take given back
    assert refused.value.retry_after == 9 * 60
    assert window(db, PER_ADDRESS, "ip1|b@x")["count"] == 0 and window(db, PER_CONTACT, "b@x")["count"] == 5
