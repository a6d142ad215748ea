"""Conformance of the capped counter behind the analysis rate limit: a conditional upsert
(`{_id, count: {$lt: limit}}`, `$inc` + `$setOnInsert`) counts up to the limit, then its insert
hits the existing `_id` and is refused as a duplicate key (then one plain conditional `$inc`
decides), also under concurrency."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

from pymongo.errors import DuplicateKeyError, OperationFailure

from functions.core.db import is_duplicate_key

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def take(coll: Any, key: str, limit: int) -> bool:
    try:
        coll.update_one({"_id": key, "count": {"$lt": limit}},
                        {"$inc": {"count": 1}, "$setOnInsert": {"expiresAt": NOW}}, upsert=True)
    except (DuplicateKeyError, OperationFailure) as exc:
        assert is_duplicate_key(exc), exc
        return bool(coll.update_one({"_id": key, "count": {"$lt": limit}}, {"$inc": {"count": 1}}).modified_count)
    return True


def test_a_capped_counter_counts_to_its_limit_then_refuses(coll: Any) -> None:
    # Given no counter yet
    # When five uses are taken under a limit of three
    results = [take(coll, "u1:2026030210", 3) for _ in range(5)]
    # Then three pass, the counter stops at three and keeps its first expiry
    assert results == [True, True, True, False, False]
    assert coll.find_one({"_id": "u1:2026030210"}) == {"_id": "u1:2026030210", "count": 3, "expiresAt": NOW}
    # And another key counts on its own
    assert take(coll, "u2:2026030210", 3) is True


def test_concurrent_takes_never_pass_the_limit(coll: Any) -> None:
    # Given eight racing takes under a limit of three
    barrier, results = threading.Barrier(8), []

    def one() -> None:
        barrier.wait()
        results.append(take(coll, "race", 3))

    threads = [threading.Thread(target=one) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Then exactly three passed
    assert sorted(results) == [False] * 5 + [True] * 3
    assert coll.find_one({"_id": "race"})["count"] == 3
