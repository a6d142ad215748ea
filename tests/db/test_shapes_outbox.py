"""Conformance of the outbox's shapes (`core.outbox`) beyond its lease (test_shapes_auth): a
handler's messages stored as children with deterministic ids (a re-run's inserts refused by
`_id`, the others kept), a digest's held notices read and marked by the digest's id, and a
mark by `_id`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pymongo.errors import BulkWriteError

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def test_a_rerun_handlers_children_are_refused_by_their_ids_and_the_rest_go_in(coll: Any) -> None:
    # Given the first run stored child 0 of parent p (then was killed)
    coll.insert_one({"_id": "p:0", "status": "pending", "nextAttemptAt": NOW})
    # When the re-run stores children 0 and 1 unordered
    with pytest.raises(BulkWriteError) as refused:
        coll.insert_many([{"_id": "p:0", "status": "pending", "nextAttemptAt": NOW},
                          {"_id": "p:1", "status": "pending", "nextAttemptAt": NOW}], ordered=False)
    # Then child 0 is refused (code 11000) and child 1 went in
    assert [e["code"] for e in refused.value.details["writeErrors"]] == [11000]
    assert refused.value.details["nInserted"] == 1
    assert sorted(d["_id"] for d in coll.find({})) == ["p:0", "p:1"]
    # And a child (or a digest) is marked by its string id
    assert coll.update_one({"_id": "p:1"}, {"$set": {"status": "sent", "updatedAt": NOW, "sentAt": NOW, "summed": 2,
                                                     "lastError": "x", "admitted": True}}).modified_count == 1
    assert coll.find_one({"_id": "p:1"}, {"status": 1, "summed": 1}) == {"_id": "p:1", "status": "sent", "summed": 2}


def test_a_digest_reads_and_marks_the_notices_it_holds(coll: Any) -> None:
    coll.insert_many([{"_id": 1, "kind": "booked", "status": "held", "digest": "digest:a:2026030210"},
                      {"_id": 2, "kind": "cancelled", "status": "held", "digest": "digest:a:2026030210"},
                      {"_id": 3, "kind": "booked", "status": "held", "digest": "digest:b:2026030210"},
                      {"_id": 4, "kind": "booked", "status": "sent"}])
    held = list(coll.find({"digest": "digest:a:2026030210"}, {"kind": 1, "status": 1}))
    assert sorted((d["_id"], d["kind"], d["status"]) for d in held) == [(1, "booked", "held"), (2, "cancelled", "held")]
    marked = coll.update_many({"digest": "digest:a:2026030210", "status": "held"},
                              {"$set": {"status": "digested", "updatedAt": NOW}})
    assert marked.modified_count == 2
    assert [d["_id"] for d in coll.find({"status": "held"})] == [3]
    assert coll.update_one({"_id": 3}, {"$set": {"status": "digested", "updatedAt": NOW,
                                                 "summed": 1}}).modified_count == 1
