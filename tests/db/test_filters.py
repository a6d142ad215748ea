"""Filter semantics the application relies on, each checked in every command that selects
documents (find, count, update, findAndModify, delete): MongoDB's documented answer, on the
server under test. The data set covers the value types the application stores: strings,
ObjectIds, ints, booleans, dates, null and missing fields, sub-documents, maps keyed by numbers
(`reminders.1440`) and arrays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from bson import ObjectId

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
A, B = ObjectId("65f000000000000000000001"), ObjectId("65f000000000000000000002")

DOCS: list[dict[str, Any]] = [
    {"_id": 1, "s": "pending", "o": A, "n": 5, "b": True, "d": T0, "sub": {"k": "x", "t": T0, "z": None},
     "rem": {"1440": T0}, "name": "Asha Rao", "arr": ["a", "b"]},
    {"_id": 2, "s": "confirmed", "o": B, "n": 7, "b": False, "d": T0 + timedelta(hours=1), "sub": {"k": "y"},
     "rem": {}, "name": "Bela Ito", "arr": []},
    {"_id": 3, "s": "cancelled", "o": A, "n": 0, "b": True, "d": T0 - timedelta(hours=1), "sub": {"k": "x", "z": 1},
     "name": "asha verma"},
    {"_id": 4, "s": "pending", "n": 5, "d": None},
    {"_id": 5, "s": "Pending", "o": B, "n": 9, "b": False, "d": T0 + timedelta(days=1), "name": "Chen (Dr.)"},
]
ALL = [d["_id"] for d in DOCS]

CASES: list[tuple[str, dict[str, Any], list[int]]] = [
    ("string equality is exact and case-sensitive", {"s": "pending"}, [1, 4]),
    ("ObjectId equality", {"o": A}, [1, 3]),
    ("int equality", {"n": 5}, [1, 4]),
    ("bool equality", {"b": False}, [2, 5]),
    ("date equality", {"d": T0}, [1]),
    ("null equality also matches a missing field", {"b": None}, [4]),
    ("dotted equality into a sub-document", {"sub.k": "x"}, [1, 3]),
    ("dotted null matches null and missing", {"sub.z": None}, [1, 2, 4, 5]),
    ("_id equality (int)", {"_id": 3}, [3]),
    ("_id $in", {"_id": {"$in": [1, 5, 99]}}, [1, 5]),
    ("_id $ne", {"_id": {"$ne": 2}}, [1, 3, 4, 5]),
    ("$in of strings", {"s": {"$in": ["pending", "confirmed"]}}, [1, 2, 4]),
    ("$in of ObjectIds", {"o": {"$in": [B]}}, [2, 5]),
    ("$gt on dates skips null and other types", {"d": {"$gt": T0}}, [2, 5]),
    ("$gte", {"d": {"$gte": T0}}, [1, 2, 5]),
    ("$lt", {"d": {"$lt": T0}}, [3]),
    ("$lte", {"d": {"$lte": T0}}, [1, 3]),
    ("half-open range $gte/$lt", {"d": {"$gte": T0, "$lt": T0 + timedelta(hours=2)}}, [1, 2]),
    ("range $gt/$lte", {"d": {"$gt": T0 - timedelta(hours=2), "$lte": T0}}, [1, 3]),
    ("$exists on a dotted path into a map keyed by a number", {"rem.1440": {"$exists": True}}, [1]),
    ("$exists false on a number-keyed path", {"rem.1440": {"$exists": False}}, [2, 3, 4, 5]),
    ("$exists on a dotted path", {"sub.t": {"$exists": True}}, [1]),
    ("$regex without options", {"name": {"$regex": "^Asha"}}, [1]),
    ("$regex with the i option", {"name": {"$regex": "^asha", "$options": "i"}}, [1, 3]),
    ("$regex escaped metacharacters", {"name": {"$regex": r"\(Dr\.\)"}}, [5]),
    ("equality and range together", {"o": A, "d": {"$gte": T0}}, [1]),
    ("equality and $in together", {"o": B, "s": {"$in": ["Pending", "confirmed"]}}, [2, 5]),
    ("scalar equality on an array field matches an element", {"arr": "b"}, [1]),
    ("$ne on a scalar field also matches a missing field", {"b": {"$ne": True}}, [2, 4, 5]),
    ("$or of equalities", {"$or": [{"s": "confirmed"}, {"n": 9}]}, [2, 5]),
    ("$in of numbers matches ints and doubles alike", {"n": {"$in": [7.0, 9]}}, [2, 5]),
    ("$in on an array field matches an element", {"arr": {"$in": ["b", "z"]}}, [1]),
    ("$in with null also matches a missing field", {"b": {"$in": [None, False]}}, [2, 4, 5]),
    ("$in of dates", {"d": {"$in": [T0, T0 + timedelta(days=1)]}}, [1, 5]),
    ("$in on a dotted path", {"sub.k": {"$in": ["y", "q"]}}, [2]),
]


@pytest.fixture
def loaded(coll: Any) -> Any:
    coll.insert_many([dict(d) for d in DOCS])
    return coll


@pytest.mark.parametrize(("why", "query", "expected"), CASES, ids=[c[0] for c in CASES])
def test_find_and_count_select_the_documented_documents(loaded: Any, ids: Any, why: str,
                                                         query: dict[str, Any], expected: list[int]) -> None:
    # Given the data set; When the filter is used to find and to count
    # Then each gives MongoDB's answer: find, countDocuments, the count command, and a sorted
    # page (the patched server states the filter, the order and the limit in SQL when it can)
    assert ids(query) == expected
    assert loaded.count_documents(query) == len(expected)
    assert loaded.database.command("count", loaded.name, query=query)["n"] == len(expected)
    for skip, limit in ((0, 2), (1, 2), (2, 10)):
        page = [d["_id"] for d in loaded.find(query, {"_id": 1}).sort("_id", -1).skip(skip).limit(limit)]
        assert page == sorted(expected, reverse=True)[skip:skip + limit]


@pytest.mark.parametrize(("why", "query", "expected"), CASES, ids=[c[0] for c in CASES])
def test_writes_select_the_same_documents(loaded: Any, ids: Any, why: str,
                                          query: dict[str, Any], expected: list[int]) -> None:
    # When the filter picks the first match to modify (sorted by _id)
    first = loaded.find_one_and_update(query, {"$set": {"picked": True}}, sort=[("_id", 1)])
    # Then it is the first of the documented matches
    assert (first["_id"] if first else None) == (expected[0] if expected else None)
    # When every match is updated
    result = loaded.update_many(query, {"$set": {"hit": True}})
    # Then exactly the documented documents were
    assert result.matched_count == len(expected)
    assert ids({"hit": True}) == expected
    # When every match is deleted, exactly the others remain
    assert loaded.delete_many(query).deleted_count == len(expected)
    assert ids({}) == [i for i in ALL if i not in expected]


def test_a_conditional_update_one_touches_only_the_first_match(loaded: Any, ids: Any) -> None:
    # Given two pending documents; When update_one runs on "pending"
    result = loaded.update_one({"s": "pending"}, {"$set": {"s": "done"}})
    # Then one is modified
    assert (result.matched_count, result.modified_count) == (1, 1)
    assert len(ids({"s": "pending"})) == 1


def test_delete_one_deletes_a_single_document(loaded: Any, ids: Any) -> None:
    assert loaded.delete_one({"o": A}).deleted_count == 1
    assert len(ids({"o": A})) == 1


def test_distinct_values_of_a_field_under_a_filter(loaded: Any) -> None:
    assert sorted(loaded.distinct("s", {"o": B})) == ["Pending", "confirmed"]


@pytest.mark.parametrize(("sort", "expected"), [
    ([("d", -1)], [5, 2, 1, 3, 4]),  # no ties: the order is fully defined
    ([("n", -1), ("_id", 1)], [5, 2, 1, 4, 3]),
    ([("d", 1), ("_id", 1)], [4, 3, 1, 2, 5]),  # null sorts before dates
    ([("s", 1), ("_id", -1)], [5, 3, 2, 4, 1]),  # binary order: upper case first
])
def test_sort_orders_and_ties(loaded: Any, sort: list[tuple[str, int]], expected: list[int]) -> None:
    assert [d["_id"] for d in loaded.find({}, {"_id": 1}, sort=sort)] == expected


def test_sort_with_skip_and_limit_pages_through_a_filter(loaded: Any) -> None:
    pages = [[d["_id"] for d in loaded.find({"o": {"$in": [A, B]}}, sort=[("n", 1), ("_id", 1)], skip=s, limit=2)]
             for s in (0, 2)]
    assert pages == [[3, 1], [2, 5]]


def test_inclusion_projection_keeps_only_the_named_fields_and_id(loaded: Any) -> None:
    assert loaded.find_one({"_id": 1}, {"s": 1, "sub.k": 1}) == {"_id": 1, "s": "pending", "sub": {"k": "x"}}


def test_exclusion_projection_drops_the_named_fields(loaded: Any) -> None:
    doc = loaded.find_one({"_id": 2}, {"name": 0, "sub": 0, "rem": 0, "arr": 0})
    assert set(doc) == {"_id", "s", "o", "n", "b", "d"}


def test_projection_without_id(loaded: Any) -> None:
    assert loaded.find_one({"_id": 4}, {"_id": 0, "s": 1}) == {"s": "pending"}


def test_object_id_keys_select_and_update_one_document(coll: Any, ids: Any) -> None:
    # Given documents keyed by ObjectId, as every entity of the API is
    coll.insert_many([{"_id": A, "v": 1}, {"_id": B, "v": 2}])
    # When one is read and updated by its id; Then only that one is touched
    assert coll.find_one({"_id": B})["v"] == 2
    assert coll.update_one({"_id": A}, {"$inc": {"v": 10}}).modified_count == 1
    assert [d["v"] for d in coll.find({}, sort=[("_id", 1)])] == [11, 2]
