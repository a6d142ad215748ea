"""Conformance of the limiter's counted take (`core.throttle.take_counted`): one conditional
`findAndModify` upsert on a window keyed by `_id` counts while the window is current and has room,
creates the window on a first take, and is refused by its `_id` (duplicate key) when the window is
full or has ended, returning the window after the take."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo import ReturnDocument
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
