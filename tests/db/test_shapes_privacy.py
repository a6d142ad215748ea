"""Conformance of the reads a user's data export sends that other suites do not: a payer's
payment records by an ObjectId equality, sorted by date then `_id` descending, limited; the chat
messages a user sent, sorted by `_id` ascending, limited, and deleted together. And the writes of
an account's deletion: closed only while no deletion is under way (`$exists: false`, one winner),
its erase's tombstone unsetting fields, under a unique contact index, placeholders distinct."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING
from pymongo.errors import DuplicateKeyError

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
A, B = ObjectId("65f000000000000000000001"), ObjectId("65f000000000000000000002")


def test_a_payers_records_newest_change_first(coll: Any) -> None:
    # Given payments of two payers, two of A's changed at the same time
    coll.insert_many([
        {"_id": "appointment:1", "payerId": A, "updatedAt": NOW - timedelta(days=1)},
        {"_id": "order:2", "payerId": A, "updatedAt": NOW},
        {"_id": "order:3", "payerId": A, "updatedAt": NOW},
        {"_id": "order:4", "payerId": B, "updatedAt": NOW + timedelta(days=1)},
    ])
    # When A's are read newest change first, then by _id descending, two at most
    found = list(coll.find({"payerId": A}).sort([("updatedAt", DESCENDING), ("_id", DESCENDING)]).limit(2))
    # Then only A's, in that order
    assert [d["_id"] for d in found] == ["order:3", "order:2"]
    assert [d["_id"] for d in coll.find({"payerId": A}).sort([("updatedAt", DESCENDING), ("_id", DESCENDING)])
            .limit(10)] == ["order:3", "order:2", "appointment:1"]


def test_the_messages_a_user_sent_oldest_first(coll: Any) -> None:
    # Given messages of two senders
    ids = [ObjectId() for _ in range(4)]
    coll.insert_many([{"_id": ids[0], "senderId": A}, {"_id": ids[1], "senderId": B},
                      {"_id": ids[2], "senderId": A}, {"_id": ids[3], "senderId": A}])
    # When A's are read oldest first, two at most
    found = list(coll.find({"senderId": A}).sort("_id", ASCENDING).limit(2))
    # Then only A's, in order; and all of A's go in one delete
    assert [d["_id"] for d in found] == [ids[0], ids[2]]
    assert coll.delete_many({"senderId": A}).deleted_count == 3
    assert [d["_id"] for d in coll.find({})] == [ids[1]]


def test_an_account_is_closed_once_while_no_deletion_is_under_way(coll: Any) -> None:
    # Given an account without a deletion, and one whose deletion is asked
    coll.insert_many([{"_id": A, "name": "Ann", "active": True}, {"_id": B, "status": "deletion_requested"}])
    # When each is closed twice by the conditional write
    close = {"$set": {"status": "deletion_requested", "active": False}, "$inc": {"sessionVersion": 1}}
    results = [coll.update_one({"_id": oid, "status": {"$exists": False}}, close).modified_count
               for oid in (A, A, B)]
    # Then only the first close of the account without one applies
    assert results == [1, 0, 0]
    assert coll.find_one({"_id": A})["sessionVersion"] == 1


def test_tombstones_keep_a_unique_contact_each_and_free_the_real_one(coll: Any) -> None:
    # Given two accounts under a unique contact index, one of them being erased
    coll.create_index([("contact", ASCENDING)], unique=True)
    coll.insert_many([{"_id": A, "contact": "a@example.test", "name": "Ann", "status": "erasing"},
                      {"_id": B, "contact": "b@example.test", "name": "Bob", "status": "erasing"}])
    # When both become tombstones (placeholder contacts, personal fields unset)
    for oid in (A, B):
        assert coll.update_one({"_id": oid, "status": "erasing"},
                               {"$set": {"status": "erased", "contact": f"erased-{oid}@contact.invalid"},
                                "$unset": {"name": ""}}).modified_count == 1
    # Then neither keeps a name, and the real contacts are free for new accounts
    assert all("name" not in d for d in coll.find({}))
    coll.insert_one({"contact": "a@example.test"})
    try:
        coll.insert_one({"contact": f"erased-{A}@contact.invalid"})
        raise AssertionError("a tombstone's placeholder must stay unique")
    except DuplicateKeyError:
        pass
