"""Conformance of the limiter's counted take (`core.throttle.take_counted`): one conditional
`findAndModify` upsert on a window keyed by `_id` counts while the window is current and has room,
creates the window on a first take, and is refused by its `_id` (duplicate key) when the window is
full or has ended, returning the window after the take."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo import ReturnDocument, UpdateOne
from pymongo.errors import DuplicateKeyError

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
DAY = timedelta(days=1)
FRESH = {"since": NOW, "expiresAt": NOW + DAY, "bucket": "2026-03-03T10"}


def take(coll: Any, now: datetime = NOW, limit: int = 2) -> Any:
    return coll.find_one_and_update({"_id": "messages|a@x", "since": {"$gt": now - DAY}, "count": {"$lt": limit}},
                                    {"$inc": {"count": 1}, "$setOnInsert": FRESH}, upsert=True,
                                    return_document=ReturnDocument.AFTER)


def test_a_counted_take_creates_the_window_counts_while_it_has_room_and_refuses_by_id(coll: Any) -> None:
    # A first take creates the window; the next counts in it; each returns the window after
    assert take(coll) == {"_id": "messages|a@x", "count": 1, **FRESH}
    assert take(coll)["count"] == 2
    # A full window matches nothing, so the upsert's insert collides on `_id`
    with pytest.raises(DuplicateKeyError):
        take(coll)
    assert coll.find_one({"_id": "messages|a@x"})["count"] == 2


def test_a_counted_take_on_an_ended_window_is_refused_by_id(coll: Any) -> None:
    # Given a window with room that ended a day ago
    coll.insert_one({"_id": "messages|a@x", "count": 1, "since": NOW - 2 * DAY, "expiresAt": NOW - DAY,
                     "bucket": "2026-03-01T10"})
    # Then a take does not count in it (the caller restarts it), and nothing changed
    with pytest.raises(DuplicateKeyError):
        take(coll)
    assert coll.find_one({"_id": "messages|a@x"})["count"] == 1


def test_takes_of_several_windows_in_one_ordered_update_marked_and_given_back_by_token(coll: Any) -> None:
    # One `update` command of conditional upserts (take_all's fast path), each take marked by a token
    def statement(wid: str, limit: int, token: str) -> dict[str, Any]:
        return {"q": {"_id": wid, "since": {"$gt": NOW - DAY}, "count": {"$lt": limit}}, "upsert": True,
                "u": {"$inc": {"count": 1}, "$set": {f"takes.{token}": NOW}, "$setOnInsert": FRESH}}

    run = coll.database.command
    reply = run("update", coll.name, updates=[statement("ip|a@x", 1, "t1"), statement("c|a@x", 5, "t1")], ordered=True)
    assert not reply.get("writeErrors") and reply["n"] == 2
    assert coll.find_one({"_id": "ip|a@x"}) == {"_id": "ip|a@x", "count": 1, "takes": {"t1": NOW}, **FRESH}
    # A refused statement is a write error (its index is not reliable on FerretDB); the ones after it do not apply
    reply = run("update", coll.name, updates=[statement("c|a@x", 5, "t2"), statement("ip|a@x", 1, "t2"),
                                               statement("other|a@x", 5, "t2")], ordered=True)
    assert [e["code"] for e in reply["writeErrors"]] == [11000]
    assert coll.find_one({"_id": "other|a@x"}) is None
    assert coll.find_one({"_id": "c|a@x"})["count"] == 2
    # Given back by token: exactly the marked take, once; a window without the token is untouched
    def give_back(wid: str, token: str) -> UpdateOne:
        return UpdateOne({"_id": wid, f"takes.{token}": {"$exists": True}},
                         {"$inc": {"count": -1}, "$unset": {f"takes.{token}": ""}})

    coll.bulk_write([give_back("c|a@x", "t2"), give_back("ip|a@x", "t2")], ordered=False)
    coll.bulk_write([give_back("c|a@x", "t2")], ordered=False)
    assert coll.find_one({"_id": "c|a@x"})["takes"] == {"t1": NOW} and coll.find_one({"_id": "c|a@x"})["count"] == 1
    assert coll.find_one({"_id": "ip|a@x"})["count"] == 1
    # A window restarted with its first take's mark; a reset forgets every take and its marks
    assert coll.update_one({"_id": "ip|a@x", "since": {"$lte": NOW + DAY - DAY}},
                           {"$set": {"count": 1, **FRESH, "takes": {"t3": NOW}}}).matched_count == 1
    coll.bulk_write([UpdateOne({"_id": "ip|a@x"}, {"$set": {"count": 0, "takes": {}}})], ordered=False)
    assert coll.find_one({"_id": "ip|a@x"}, {"count": 1, "takes": 1}) == {"_id": "ip|a@x", "count": 0, "takes": {}}
    # A reset guarded by a take's mark (a deferred login settlement run twice): it applies while the
    # mark is there, and a second run finds no mark and leaves the takes made since
    coll.update_one({"_id": "ip|a@x"}, {"$set": {"count": 2, "takes": {"t4": NOW, "t5": NOW}}})

    def reset(token: str) -> UpdateOne:
        return UpdateOne({"_id": "ip|a@x", f"takes.{token}": {"$exists": True}}, {"$set": {"count": 0, "takes": {}}})

    coll.bulk_write([reset("t4")], ordered=False)
    coll.update_one({"_id": "ip|a@x"}, {"$inc": {"count": 1}, "$set": {"takes.t6": NOW}})
    coll.bulk_write([reset("t4")], ordered=False)
    assert coll.find_one({"_id": "ip|a@x"}, {"count": 1, "takes": 1}) == {"_id": "ip|a@x", "count": 1,
                                                                          "takes": {"t6": NOW}}
