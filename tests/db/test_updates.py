"""Update semantics the application relies on, through update_one and find_one_and_update
(returning the document after), with MongoDB's documented result on the server under test."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from bson import ObjectId
from pymongo import ReturnDocument

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
OID = ObjectId("65f000000000000000000009")
BASE: dict[str, Any] = {"_id": 1, "status": "pending", "n": 1, "login": {"fails": 2, "since": T0},
                        "rem": {"1440": T0, "15": T0}, "hist": [{"s": "pending"}], "tags": ["a"], "gone": "x"}

CASES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("$set of a string", {"$set": {"status": "confirmed"}}, {"status": "confirmed"}),
    ("$set of an int", {"$set": {"n": 7}}, {"n": 7}),
    ("$set of a bool", {"$set": {"flag": False}}, {"flag": False}),
    ("$set of a date", {"$set": {"at": T0}}, {"at": T0}),
    ("$set of an ObjectId", {"$set": {"by": OID}}, {"by": OID}),
    ("$set of null", {"$set": {"gone": None}}, {"gone": None}),
    ("$set of a list", {"$set": {"tags": ["x", "y"]}}, {"tags": ["x", "y"]}),
    ("$set of a sub-document replaces it", {"$set": {"login": {"fails": 0}}}, {"login": {"fails": 0}}),
    ("$set on a dotted path keeps the siblings", {"$set": {"login.since": T0.replace(hour=11)}},
     {"login": {"fails": 2, "since": T0.replace(hour=11)}}),
    ("$set of a sub-document on a dotted path", {"$set": {"login.meta": {"ip": "1.2.3.4"}}},
     {"login": {"fails": 2, "since": T0, "meta": {"ip": "1.2.3.4"}}}),
    ("$set on a number-keyed path of a map", {"$set": {"rem.60": T0}}, {"rem": {"1440": T0, "15": T0, "60": T0}}),
    ("$unset of a field", {"$unset": {"gone": ""}}, {"gone": "<missing>"}),
    ("$unset on a number-keyed path", {"$unset": {"rem.15": ""}}, {"rem": {"1440": T0}}),
    ("$unset on a dotted path", {"$unset": {"login.since": ""}}, {"login": {"fails": 2}}),
    ("$inc of a field", {"$inc": {"n": 2}}, {"n": 3}),
    ("$inc of a missing field starts at 0", {"$inc": {"new": -1}}, {"new": -1}),
    ("$inc on a dotted path", {"$inc": {"login.fails": 1}}, {"login": {"fails": 3, "since": T0}}),
    ("$push of a sub-document appends", {"$push": {"hist": {"s": "confirmed"}}},
     {"hist": [{"s": "pending"}, {"s": "confirmed"}]}),
    ("$push with $each appends several", {"$push": {"tags": {"$each": ["b", "c"]}}}, {"tags": ["a", "b", "c"]}),
    ("$addToSet adds a missing value once", {"$addToSet": {"tags": "b"}}, {"tags": ["a", "b"]}),
    ("$addToSet leaves a present value", {"$addToSet": {"tags": "a"}}, {"tags": ["a"]}),
    ("$pull of a scalar value", {"$pull": {"tags": "a"}}, {"tags": []}),
    ("$set, $inc and $push together", {"$set": {"status": "done"}, "$inc": {"n": 1}, "$push": {"hist": {"s": "done"}}},
     {"status": "done", "n": 2, "hist": [{"s": "pending"}, {"s": "done"}]}),
]


def _expect(update_result: dict[str, Any]) -> dict[str, Any]:
    doc = {**BASE, **update_result}
    return {k: v for k, v in doc.items() if v != "<missing>"}


@pytest.mark.parametrize(("why", "update", "changed"), CASES, ids=[c[0] for c in CASES])
def test_update_one_applies_the_documented_change(coll: Any, why: str, update: dict[str, Any],
                                                  changed: dict[str, Any]) -> None:
    coll.insert_one(dict(BASE))
    result = coll.update_one({"_id": 1}, update)
    assert result.matched_count == 1
    assert coll.find_one({"_id": 1}) == _expect(changed)


@pytest.mark.parametrize(("why", "update", "changed"), CASES, ids=[c[0] for c in CASES])
def test_find_one_and_update_returns_the_documented_document(coll: Any, why: str, update: dict[str, Any],
                                                            changed: dict[str, Any]) -> None:
    coll.insert_one(dict(BASE))
    after = coll.find_one_and_update({"_id": 1}, update, return_document=ReturnDocument.AFTER)
    assert after == _expect(changed)


def test_find_one_and_update_returns_the_document_before_by_default(coll: Any) -> None:
    coll.insert_one(dict(BASE))
    before = coll.find_one_and_update({"_id": 1, "status": "pending"}, {"$set": {"status": "x"}})
    assert before["status"] == "pending"
    assert coll.find_one_and_update({"_id": 1, "status": "pending"}, {"$set": {"status": "y"}}) is None


def test_find_one_and_delete_returns_and_removes(coll: Any) -> None:
    coll.insert_one(dict(BASE))
    assert coll.find_one_and_delete({"_id": 1, "status": "pending"})["_id"] == 1
    assert coll.find_one({"_id": 1}) is None


@pytest.mark.parametrize("key", [1, "k", OID])
def test_upsert_with_set_on_insert_creates_then_leaves_alone(coll: Any, key: Any) -> None:
    # When the document does not exist, $setOnInsert and $inc create it
    first = coll.find_one_and_update({"_id": key}, {"$setOnInsert": {"since": T0}, "$inc": {"n": 1}}, upsert=True,
                                     return_document=ReturnDocument.AFTER)
    # Then a second upsert only increments
    second = coll.find_one_and_update({"_id": key}, {"$setOnInsert": {"since": T0.replace(hour=12)}, "$inc": {"n": 1}},
                                      upsert=True, return_document=ReturnDocument.AFTER)
    assert first == {"_id": key, "since": T0, "n": 1}
    assert second == {"_id": key, "since": T0, "n": 2}


def test_update_one_upsert_copies_the_filter_equalities(coll: Any) -> None:
    result = coll.update_one({"_id": "bucket", "kind": "rate"}, {"$inc": {"n": 1}}, upsert=True)
    assert result.upserted_id == "bucket"
    assert coll.find_one({"_id": "bucket"}) == {"_id": "bucket", "kind": "rate", "n": 1}


def test_a_filter_on_the_current_value_makes_the_update_conditional(coll: Any) -> None:
    coll.insert_one({"_id": 1, "stock": 2})
    assert coll.update_one({"_id": 1, "stock": {"$gte": 3}}, {"$inc": {"stock": -3}}).modified_count == 0
    assert coll.update_one({"_id": 1, "stock": {"$gte": 2}}, {"$inc": {"stock": -2}}).modified_count == 1
    assert coll.find_one({"_id": 1})["stock"] == 0


def test_update_many_with_a_filter_and_set(coll: Any) -> None:
    coll.insert_many([{"_id": i, "listed": True, "pharmacy": i % 2} for i in range(4)])
    assert coll.update_many({"pharmacy": 1}, {"$set": {"listed": False}}).modified_count == 2
    assert sorted(d["_id"] for d in coll.find({"listed": True})) == [0, 2]


def test_replace_one_replaces_the_whole_document(coll: Any) -> None:
    coll.insert_one(dict(BASE))
    coll.replace_one({"_id": 1}, {"only": "this"})
    assert coll.find_one({"_id": 1}) == {"_id": 1, "only": "this"}
