"""Conformance of the shapes the emergency line sends that other suites do not: the nearest
hospitals (two equalities, a two-key sort, a limit, served by a four-key index) and deleting
one hospital by its ObjectId."""

from __future__ import annotations

from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, IndexModel


def test_a_four_key_index_serves_equalities_then_a_two_key_sort_with_a_limit(coll: Any) -> None:
    # Given hospitals under the emergency line's index (created twice, as every deploy does)
    index = IndexModel([("pincode", ASCENDING), ("active", ASCENDING), ("rank", ASCENDING), ("name", ASCENDING)],
                       name="by_pincode")
    coll.create_indexes([index])
    coll.create_indexes([index])
    coll.insert_many([
        {"_id": 1, "pincode": "560034", "active": True, "rank": 1, "name": "Apollo"},
        {"_id": 2, "pincode": "560034", "active": True, "rank": 0, "name": "Victoria"},
        {"_id": 3, "pincode": "560034", "active": True, "rank": 0, "name": "Bowring"},
        {"_id": 4, "pincode": "560034", "active": False, "rank": 0, "name": "Closed"},
        {"_id": 5, "pincode": "560001", "active": True, "rank": 0, "name": "Elsewhere"},
        {"_id": 6, "pincode": "560034", "active": True, "rank": 1, "name": "Manipal"},
    ])
    # When the nearest three are asked for
    found = coll.find({"pincode": "560034", "active": True}, {"name": 1}).sort(
        [("rank", ASCENDING), ("name", ASCENDING)]).limit(3)
    # Then public (rank 0) come first by name, inactive and other areas never
    assert [d["_id"] for d in found] == [3, 2, 1]
    assert "by_pincode" in coll.index_information()


def test_delete_one_by_object_id_deletes_only_that_document(coll: Any) -> None:
    # Given two documents keyed by ObjectIds
    a, b = ObjectId(), ObjectId()
    coll.insert_many([{"_id": a}, {"_id": b}])
    # When one is deleted, twice
    first, second = coll.delete_one({"_id": a}).deleted_count, coll.delete_one({"_id": a}).deleted_count
    # Then it is gone once and the other stays
    assert (first, second) == (1, 0)
    assert [d["_id"] for d in coll.find({})] == [b]
