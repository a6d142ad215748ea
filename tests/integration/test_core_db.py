"""`core.db.insert_unless_duplicate` on the real database: the first insert is written, a
second with the same `_id` or the same unique key is refused and writes nothing."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, IndexModel

from functions.core.db import insert_unless_duplicate, unless_duplicate


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
