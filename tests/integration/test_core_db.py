"""`core.db.insert_unless_duplicate` on the real database: the first insert is written, a
second with the same `_id` or the same unique key is refused and writes nothing."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, IndexModel

from functions.core.db import insert_many_unless_duplicate, insert_unless_duplicate, unless_duplicate


def test_an_insert_is_written_once_per_unique_key(db: Any) -> None:
    # Given a collection with a unique index on `number`
    coll = db["scratch"]
    coll.create_indexes([IndexModel([("number", ASCENDING)], unique=True, name="uniq_number")])
    # When the same `_id`, then the same number, are inserted twice
    first = insert_unless_duplicate(coll, {"_id": "a", "number": 1})
    same_id = insert_unless_duplicate(coll, {"_id": "a", "number": 2})
    same_number = {"number": 1}
    refused = insert_unless_duplicate(coll, same_number)
    other = {"number": 3}
    # Then only the first of each is written; pymongo gave the new document its `_id`
    assert (first, same_id, refused, insert_unless_duplicate(coll, other)) == (True, False, False, True)
    assert sorted((d["number"]) for d in coll.find({}, {"number": 1})) == [1, 3]
    assert coll.find_one({"_id": other["_id"]}) == other


def test_an_upsert_on_a_held_id_is_refused(db: Any) -> None:
    # Given a claim document held until later
    coll = db["scratch"]
    coll.insert_one({"_id": "seat", "until": 10})
    # When an upsert may take it only if it ended (it has not: the insert collides on `_id`)
    with unless_duplicate() as held:
        coll.update_one({"_id": "seat", "until": {"$lte": 5}}, {"$set": {"until": 20}}, upsert=True)
    # Then the write is refused and the claim is unchanged
    assert held and coll.find_one({"_id": "seat"}) == {"_id": "seat", "until": 10}


def test_an_ordered_bulk_insert_stops_at_the_first_held_document(db: Any) -> None:
    # Given a cell held already
    coll = db["scratch"]
    coll.insert_one({"_id": "b", "by": "first"})
    # When three cells are inserted in order, the second of which is held
    refusal = insert_many_unless_duplicate(coll, [{"_id": "a"}, {"_id": "b"}, {"_id": "c"}], ordered=True)
    # Then the refusal names its position, and only the one before it went in
    assert refusal and refusal.refused == [1] and refusal.inserted == 1
    assert sorted(d["_id"] for d in coll.find({})) == ["a", "b"]
    assert coll.find_one({"_id": "b"}) == {"_id": "b", "by": "first"}


def test_an_unordered_bulk_insert_writes_all_it_can(db: Any) -> None:
    # Given a cell held already
    coll = db["scratch"]
    coll.insert_one({"_id": "b"})
    # When three cells are inserted unordered, then three free ones
    refusal = insert_many_unless_duplicate(coll, [{"_id": "a"}, {"_id": "b"}, {"_id": "c"}], ordered=False)
    free = insert_many_unless_duplicate(coll, [{"_id": "d"}, {"_id": "e"}, {"_id": "f"}], ordered=False)
    # Then only the held one is refused and the rest is written; the free ones are not refused
    assert (refusal.refused, refusal.inserted) == ([1], 2)
    assert not free and free.inserted == 3
    assert sorted(d["_id"] for d in coll.find({})) == ["a", "b", "c", "d", "e", "f"]
