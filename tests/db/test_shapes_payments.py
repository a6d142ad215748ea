"""Conformance of the shapes payments sends that other suites do not: paging through paid
appointment payments by their string `_id` (`"appointment:<id>"`) with `$gt`, under two
equalities and a date range, sorted by `_id`, projected and limited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ASCENDING

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def test_pages_by_string_id_after_a_cursor(coll: Any) -> None:
    # Given payments of both kinds and statuses, some for past appointments
    coll.insert_many([
        {"_id": "appointment:a", "status": "succeeded", "kind": "appointment", "targetStart": NOW, "targetId": 1},
        {"_id": "appointment:b", "status": "succeeded", "kind": "appointment", "targetStart": NOW, "targetId": 2},
        {"_id": "appointment:c", "status": "refunded", "kind": "appointment", "targetStart": NOW, "targetId": 3},
        {"_id": "appointment:d", "status": "succeeded", "kind": "appointment",
         "targetStart": NOW - timedelta(days=5), "targetId": 4},
        {"_id": "appointment:e", "status": "succeeded", "kind": "appointment", "targetStart": NOW, "targetId": 5},
        {"_id": "order:f", "status": "succeeded", "kind": "order", "targetStart": NOW, "targetId": 6},
    ])

    def page(after: str) -> list[Any]:
        query = {"status": "succeeded", "kind": "appointment", "targetStart": {"$gt": NOW - timedelta(days=2)},
                 "_id": {"$gt": after}}
        return list(coll.find(query, {"targetId": 1}).sort("_id", ASCENDING).limit(2))

    # When paged two at a time from the start
    first = page("")
    second = page(first[-1]["_id"])
    third = page(second[-1]["_id"])
    # Then each matching payment comes once, in order, with only the projected field
    assert first == [{"_id": "appointment:a", "targetId": 1}, {"_id": "appointment:b", "targetId": 2}]
    assert second == [{"_id": "appointment:e", "targetId": 5}]
    assert third == []


def test_a_webhook_event_claim_is_read_by_its_string_id_and_marked_handled(coll: Any) -> None:
    # claim (insert by `_id`), a second delivery reads the claim, the handling marks it, a failure releases it
    from pymongo.errors import DuplicateKeyError

    coll.insert_one({"_id": "evt_1", "type": "payment_intent.succeeded", "receivedAt": NOW,
                     "expiresAt": NOW + timedelta(days=30)})
    try:
        coll.insert_one({"_id": "evt_1", "type": "payment_intent.succeeded", "receivedAt": NOW})
        raise AssertionError("a second claim of one event id must be refused")
    except DuplicateKeyError:
        pass
    assert coll.find_one({"_id": "evt_1"}).get("handledAt") is None
    assert coll.update_one({"_id": "evt_1"}, {"$set": {"handledAt": NOW}}).modified_count == 1
    assert coll.find_one({"_id": "evt_1"})["handledAt"] == NOW
    assert coll.update_one({"_id": "evt_gone"}, {"$set": {"handledAt": NOW}}).matched_count == 0
    assert coll.delete_one({"_id": "evt_1"}).deleted_count == 1
    assert coll.find_one({"_id": "evt_1"}) is None


def test_flagged_payments_are_paged_newest_first(coll: Any) -> None:
    # Issue 21 item 11 (`payments.flagged`): equality on a top-level string, sorted by date and
    # string `_id` descending, skipped and limited, and counted.
    coll.insert_many([
        {"_id": "appointment:a", "review": "flagged", "updatedAt": NOW - timedelta(hours=2)},
        {"_id": "appointment:b", "review": "flagged", "updatedAt": NOW},
        {"_id": "order:c", "review": "flagged", "updatedAt": NOW},
        {"_id": "order:d", "status": "succeeded", "updatedAt": NOW},
    ])
    query = {"review": "flagged"}
    first = list(coll.find(query).sort([("updatedAt", -1), ("_id", -1)]).skip(0).limit(2))
    second = list(coll.find(query).sort([("updatedAt", -1), ("_id", -1)]).skip(2).limit(2))
    assert [p["_id"] for p in first] == ["order:c", "appointment:b"]
    assert [p["_id"] for p in second] == ["appointment:a"]
    assert coll.count_documents(query) == 3
