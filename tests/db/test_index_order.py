"""Conformance of sorted pages and counts read in an index's order (issue 20 goal 2): an
equality on an index's first keys, a sort on its next keys (either direction), a range on the
first sorted key, and counts of equalities with at most one range. The patched embedded server
walks its companion index ("index-order", local/ferretdb) while every document holds values it
can order in the index's keys, and falls back to ranking every match otherwise; MongoDB's answer
is asserted in both states, on values of every type it orders (null and missing, numbers of
each width, strings bytewise, ObjectIds, booleans, dates) and then with a sub-document and an
array in the index's keys."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bson import ObjectId
from bson.int64 import Int64

OID = ObjectId("65f000000000000000000001")
KEYS: dict[int, Any] = {2: None, 3: 3, 4: 2.5, 5: Int64(2**40), 6: "b", 7: "a", 8: "B", 9: OID, 10: False,
                        11: True, 12: datetime(2026, 1, 1, tzinfo=UTC), 13: datetime(2025, 1, 1, tzinfo=UTC)}
ASCENDING_ORDER = [1, 2, 4, 3, 5, 8, 7, 6, 9, 10, 11, 13, 12]  # MongoDB's order of KEYS (1 has no k)


def _fill(coll: Any) -> None:
    coll.create_index([("g", 1), ("k", 1), ("_id", 1)], name="g_k_id")
    coll.create_index([("g", 1), ("when", 1)], name="g_when")
    coll.insert_one({"_id": 1, "g": 1})
    coll.insert_many([{"_id": n, "g": 1, "k": k} for n, k in KEYS.items()])
    coll.insert_one({"_id": 14, "g": 2, "k": "a"})


def _page(coll: Any, query: dict[str, Any], direction: int, skip: int = 0, limit: int = 100) -> list[Any]:
    return [d["_id"] for d in coll.find(query, {"_id": 1}).sort([("k", direction), ("_id", direction)])
            .skip(skip).limit(limit)]


def test_a_page_sorted_by_the_keys_after_an_equality_comes_in_mongodbs_order_of_types(coll: Any) -> None:
    # Given documents whose sort key holds every type MongoDB orders, and an index (g, k, _id)
    _fill(coll)
    # When a page of g = 1 is read by k then _id, up and down, with a skip
    # Then it comes in MongoDB's order (null and missing first, numbers, strings bytewise, ...)
    assert _page(coll, {"g": 1}, 1) == ASCENDING_ORDER
    assert _page(coll, {"g": 1}, 1, skip=2, limit=5) == ASCENDING_ORDER[2:7]
    assert _page(coll, {"g": 1}, -1, limit=4) == ASCENDING_ORDER[::-1][:4]
    assert _page(coll, {"g": {"$eq": 1}, "k": {"$ne": "a"}}, -1, skip=1, limit=3) == [13, 11, 10]


def test_a_range_on_the_first_sorted_key_holds_only_values_of_its_type(coll: Any) -> None:
    _fill(coll)
    assert _page(coll, {"g": 1, "k": {"$gt": 2}}, 1) == [4, 3, 5]
    assert _page(coll, {"g": 1, "k": {"$lt": "b"}}, 1) == [8, 7]
    assert _page(coll, {"g": 1, "k": {"$gte": datetime(2025, 6, 1, tzinfo=UTC)}}, -1) == [12]
    assert _page(coll, {"g": 1, "k": {"$gt": 2, "$lte": 3}}, -1, limit=1) == [3]


def test_counts_of_equalities_and_one_range_on_an_index_are_exact(coll: Any) -> None:
    _fill(coll)
    coll.update_many({"g": 1}, {"$set": {"when": datetime(2026, 3, 1, tzinfo=UTC)}})
    coll.update_one({"_id": 4}, {"$set": {"when": datetime(2026, 1, 1, tzinfo=UTC)}})
    assert coll.count_documents({"g": 1}) == 13
    assert coll.count_documents({"g": 2}) == 1
    assert coll.count_documents({"g": 1, "when": {"$gt": datetime(2026, 2, 1, tzinfo=UTC)}}) == 12
    assert coll.count_documents({"g": 1, "when": {"$lte": datetime(2026, 2, 1, tzinfo=UTC)}}) == 1
    assert coll.count_documents({"g": 1, "when": {"$gt": 5}}) == 0  # a number never matches a date


def test_counts_of_an_in_on_an_indexs_second_key_follow_every_write(coll: Any) -> None:
    # Given an index (g, s) and documents whose s holds strings, numbers, ObjectIds, null or nothing
    coll.create_index([("g", 1), ("s", 1)], name="g_s")
    coll.insert_many([{"_id": 1, "g": 1, "s": "pending"}, {"_id": 2, "g": 1, "s": "confirmed"},
                      {"_id": 3, "g": 1, "s": "cancelled"}, {"_id": 4, "g": 2, "s": "pending"},
                      {"_id": 5, "g": 1, "s": 2}, {"_id": 6, "g": 1, "s": Int64(3)}, {"_id": 7, "g": 1, "s": 2.5},
                      {"_id": 8, "g": 1, "s": OID}, {"_id": 9, "g": 1, "s": None}, {"_id": 10, "g": 1}])
    pending_or_confirmed = {"g": 1, "s": {"$in": ["pending", "confirmed"]}}
    # When counts of an equality and an $in are asked, of one type each and of several
    # Then each is MongoDB's count
    assert coll.count_documents(pending_or_confirmed) == 2
    assert coll.count_documents({"g": 1, "s": {"$in": [2, 3, 7]}}) == 2  # 2 and Int64(3); 2.5 is not listed
    assert coll.count_documents({"g": 1, "s": {"$in": [2.5, 2]}}) == 2
    assert coll.count_documents({"g": 1, "s": {"$in": [OID]}}) == 1
    assert coll.count_documents({"g": 1, "s": {"$in": ["pending", 2, None]}}) == 4  # null matches the missing s
    # When a document changes its s, another is deleted and one more is inserted
    coll.update_one({"_id": 3}, {"$set": {"s": "pending"}})
    coll.update_one({"_id": 1}, {"$set": {"s": 2}})
    coll.delete_one({"_id": 2})
    coll.insert_one({"_id": 11, "g": 1, "s": "confirmed"})
    # Then the counts follow every write
    assert coll.count_documents(pending_or_confirmed) == 2
    assert coll.count_documents({"g": 1, "s": {"$in": [2]}}) == 2
    assert coll.count_documents({"g": 2, "s": {"$in": ["pending"]}}) == 1


def test_a_sub_document_or_an_array_in_the_indexed_keys_still_gets_mongodbs_answer(coll: Any) -> None:
    # Given the same documents, one with a sub-document as k and one whose g is an array holding 1
    _fill(coll)
    coll.insert_many([{"_id": 15, "g": 1, "k": {"sub": 1}}, {"_id": 16, "g": [1, 3], "k": "c"}])
    # When the same pages and counts are asked for
    ascending = [*ASCENDING_ORDER[:8], 16, 15, *ASCENDING_ORDER[8:]]
    # Then the sub-document sorts between strings and ObjectIds, and the array's document matches g = 1
    assert _page(coll, {"g": 1}, 1) == ascending
    assert _page(coll, {"g": 1}, -1, limit=5) == ascending[::-1][:5]
    assert _page(coll, {"g": 1}, 1, skip=7, limit=3) == ascending[7:10]
    assert coll.count_documents({"g": 1}) == 15
    assert coll.count_documents({"g": 3}) == 1
    assert coll.count_documents({"g": 1, "k": {"$in": ["a", "c"]}}) == 2  # one of them the array's document
