"""Sort order and counts the application relies on, against MongoDB's documented rules.

MongoDB orders values of different types by a fixed type order (null and missing alike, then
numbers, strings, objects, arrays, ObjectIds, booleans, dates), numbers by value whatever their
BSON type, strings by their UTF-8 bytes, and an array by its least element ascending and its
greatest descending. The patched embedded server orders (and counts) in SQL where it can do so
exactly and falls back to FerretDB's Go path where it cannot; these tests hold both paths to the
rules: every page of every sort is the slice of the documented order.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any

import pytest
from bson import Int64, ObjectId

MISSING = object()
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
HEX_ID = ObjectId("65f00000000000000000abcd")
# MongoDB's comparison order of BSON types (null and a missing field compare equal).
_TYPE_ORDER = {"null": 1, "number": 2, "string": 3, "object": 4, "array": 5, "objectId": 7, "bool": 8, "date": 9}

SCALARS: list[Any] = [
    None, MISSING, 0, -0.0, 1, 1.0, Int64(1), -7, 2.5, -2.5, 10, 9, Int64(2**53), 2.0**53, Int64(2**53 + 1),
    Int64(-(2**62)), 1e-300, "", "a", "B", "b", "ab", "é", "z", "Z", "10", "9", "Ωmega", "日本",
    ObjectId("65f000000000000000000001"), ObjectId("65f0000000000000000000ff"), ObjectId("0000000000000000000000aa"),
    True, False, T0, T0 - timedelta(days=20000), T0 + timedelta(milliseconds=1),
]


def _bson_key(value: Any, descending: bool = False) -> tuple[int, Any]:
    if value is MISSING or value is None:
        return (_TYPE_ORDER["null"], 0)
    if isinstance(value, bool):
        return (_TYPE_ORDER["bool"], value)
    if isinstance(value, int | float):
        return (_TYPE_ORDER["number"], Fraction(value))
    if isinstance(value, str):
        return (_TYPE_ORDER["string"], value.encode())
    if isinstance(value, ObjectId):
        return (_TYPE_ORDER["objectId"], value.binary)
    if isinstance(value, datetime):
        return (_TYPE_ORDER["date"], value.replace(tzinfo=UTC) if value.tzinfo is None else value)
    if isinstance(value, list):  # by the least element ascending, the greatest descending
        keys = [_bson_key(v) for v in value]
        return max(keys) if descending else min(keys)
    if isinstance(value, dict):
        return (_TYPE_ORDER["object"], tuple((k.encode(), _bson_key(v)) for k, v in value.items()))
    raise TypeError(value)


def documented_order(docs: list[dict[str, Any]], spec: list[tuple[str, int]]) -> list[Any]:
    def compare(a: dict[str, Any], b: dict[str, Any]) -> int:
        for field, direction in spec:
            ka = _bson_key(a.get(field, MISSING), direction < 0)
            kb = _bson_key(b.get(field, MISSING), direction < 0)
            if ka != kb:
                return (-1 if ka < kb else 1) * direction
        return 0

    return [d["_id"] for d in sorted(docs, key=functools.cmp_to_key(compare))]


def _doc(i: int, **fields: Any) -> dict[str, Any]:
    return {"_id": i, **{k: v for k, v in fields.items() if v is not MISSING}}


@pytest.fixture
def scalars(coll: Any) -> list[dict[str, Any]]:
    """One document per scalar in `v`, a second key `w` with ties, and ids that do not follow `v`."""
    rnd = random.Random(7)  # noqa: S311 - a fixed shuffle of test data
    order = list(range(len(SCALARS)))
    rnd.shuffle(order)
    docs = [_doc(100 + n, v=value, w=n % 3) for n, value in zip(order, SCALARS, strict=True)]
    coll.insert_many([dict(d) for d in docs])
    return docs


def _pages(coll: Any, query: dict[str, Any], spec: list[tuple[str, int]], size: int) -> Callable[[int], list[Any]]:
    return lambda skip: [d["_id"] for d in coll.find(query, {"_id": 1}).sort(spec).skip(skip).limit(size)]


@pytest.mark.parametrize("spec", [
    [("v", 1), ("_id", 1)], [("v", -1), ("_id", 1)], [("w", 1), ("v", -1), ("_id", -1)],
    [("w", -1), ("_id", 1)], [("_id", -1)],
], ids=lambda s: ",".join(f"{k}{'+' if d > 0 else '-'}" for k, d in s))
def test_every_page_of_a_sort_over_mixed_scalars_is_the_documented_order(coll: Any, scalars: Any, spec: Any) -> None:
    # Given documents whose sort field holds every scalar type the application stores
    expected = documented_order(scalars, spec)
    # When the whole result and every page of 7 are read
    whole = [d["_id"] for d in coll.find({}, {"_id": 1}).sort(spec)]
    page = _pages(coll, {}, spec, 7)
    # Then each is the documented order, or its slice
    assert whole == expected
    for skip in range(0, len(expected) + 7, 7):
        assert page(skip) == expected[skip:skip + 7]


@pytest.mark.parametrize("odd", [["m", "a"], {"k": 1}, 2.0**60, [3, 1, 2]],
                         ids=["array of strings", "sub-document", "double beyond 2^53", "array of numbers"])
def test_a_sort_field_holding_a_value_sql_cannot_order_still_sorts_as_documented(coll: Any, scalars: Any,
                                                                                  odd: Any) -> None:
    # Given one more document whose sort field holds an array, a sub-document or a huge double
    docs = [*scalars, _doc(999, v=odd, w=1)]
    coll.insert_one(dict(docs[-1]))
    for spec in ([("v", 1), ("_id", 1)], [("v", -1), ("_id", 1)]):
        expected = documented_order(docs, spec)
        # When pages are read; Then they are still the documented order
        page = _pages(coll, {}, spec, 5)
        assert [d["_id"] for d in coll.find({}, {"_id": 1}).sort(spec)] == expected
        assert page(0) == expected[:5]
        assert page(35) == expected[35:40]


@pytest.fixture
def catalogue(coll: Any) -> list[dict[str, Any]]:
    """Catalogue-like rows: a flag, a category, a price, an expiry, words (an array) on some."""
    rnd = random.Random(11)  # noqa: S311 - reproducible test data
    docs = []
    for i in range(120):
        doc = _doc(i, listed=i % 5 != 0, category=("A", "B", "C")[i % 3], price=rnd.choice([100, 250, 99.5, 1000]),
                   expiry=T0 + timedelta(days=rnd.randint(-30, 30)), name=rnd.choice(["dolo", "Amox", "azee", "b"]))
        if i % 4 == 0:
            doc["tags"] = ["x", "y"] if i % 8 == 0 else "x"
        elif i % 16 == 1:
            doc["tags"] = [{"v": "x"}, "z"]  # a sub-document holding "x" is not "x"
        elif i % 16 == 3:
            doc["tags"] = [HEX_ID, "y"]  # an ObjectId is not the string of its hex
        elif i % 16 == 5:
            doc["tags"] = [HEX_ID.binary.hex(), 7]
        docs.append(doc)
    coll.insert_many([dict(d) for d in docs])
    return docs


CATALOGUE_QUERIES: list[tuple[str, dict[str, Any], Callable[[dict[str, Any]], bool]]] = [
    ("flag and date range", {"listed": True, "expiry": {"$gt": T0}},
     lambda d: d["listed"] and d["expiry"] > T0),
    ("flag, category, price range", {"listed": True, "category": "B", "price": {"$gte": 99.5, "$lte": 250}},
     lambda d: d["listed"] and d["category"] == "B" and 99.5 <= d["price"] <= 250),
    ("$in of categories and a number equality across int and double", {"category": {"$in": ["A", "C"]},
                                                                         "price": 100.0},
     lambda d: d["category"] in ("A", "C") and d["price"] == 100),
    ("equality on a field that is an array in some documents", {"tags": "x", "listed": True},
     lambda d: d["listed"] and (d.get("tags") == "x" or "x" in (d.get("tags") or []))),
    ("$in of strings on a field that is an array in some documents", {"tags": {"$in": ["y", "z"]}},
     lambda d: any(t in ("y", "z") for t in (d.get("tags") if isinstance(d.get("tags"), list) else [d.get("tags")]))),
    ("a string that reads as an ObjectId's hex matches only strings",
     {"tags": HEX_ID.binary.hex(), "listed": {"$in": [True, False]}},
     lambda d: HEX_ID.binary.hex() in (d.get("tags") if isinstance(d.get("tags"), list) else [d.get("tags")])),
    ("a string compared to numbers matches nothing", {"price": {"$gt": "1"}}, lambda d: False),
    ("a date compared with an ObjectId range matches nothing",
     {"expiry": {"$gte": ObjectId("000000000000000000000000")}}, lambda d: False),
    ("a missing field equals null", {"tags": None, "category": "A"},
     lambda d: "tags" not in d and d["category"] == "A"),
]


@pytest.mark.parametrize(("why", "query", "matches"), CATALOGUE_QUERIES, ids=[q[0] for q in CATALOGUE_QUERIES])
def test_filtered_sorted_pages_and_counts_are_exact(coll: Any, catalogue: Any, why: str, query: dict[str, Any],
                                                    matches: Callable[[dict[str, Any]], bool]) -> None:
    # Given catalogue-like documents; When a filter is counted and read as sorted pages
    selected = [d for d in catalogue if matches(d)]
    # Then the count (both ways) is the number of documented matches
    assert coll.count_documents(query) == len(selected)
    assert coll.database.command("count", coll.name, query=query)["n"] == len(selected)
    # And every page is the slice of the documented order
    for spec in ([("price", 1), ("_id", 1)], [("name", 1), ("_id", -1)], [("expiry", -1), ("_id", 1)]):
        expected = documented_order(selected, spec)
        page = _pages(coll, query, spec, 10)
        for skip in (0, 10, 20, max(len(expected) - 3, 0)):
            assert page(skip) == expected[skip:skip + 10], (spec, skip)


def _group_counts(coll: Any, query: dict[str, Any], field: str) -> dict[Any, int]:
    pipeline = [{"$match": query}, {"$group": {"_id": f"${field}", "count": {"$sum": 1}}}]
    rows = list(coll.aggregate(pipeline))
    assert len({repr(r["_id"]) for r in rows}) == len(rows)  # one row per group
    return {_hashable(r["_id"]): r["count"] for r in rows}


def _hashable(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple((k, _hashable(v)) for k, v in value.items())
    return value


@pytest.mark.parametrize(("field", "query"), [
    ("category", {"listed": True, "expiry": {"$gt": T0}}),
    ("category", {"category": {"$in": ["A", "B"]}, "price": {"$lt": 1000}}),
    ("listed", {}),
    ("name", {"price": 100}),
    ("expiry", {"category": "C", "listed": False}),
    ("price", {"listed": True}),
    ("tags", {"category": "A"}),
    ("nothing", {"category": "B"}),
], ids=["strings", "strings under $in and a range", "booleans", "a number filter", "dates", "numbers (Go path)",
        "an array in some rows (Go path)", "a missing field groups as null"])
def test_counts_per_value_of_a_field_are_exact(coll: Any, catalogue: Any, field: str, query: dict[str, Any]) -> None:
    # Given catalogue-like documents
    def matches(doc: dict[str, Any]) -> bool:
        return all(_matches_clause(doc.get(k, MISSING), v) for k, v in query.items())

    expected: dict[Any, int] = {}
    for doc in catalogue:
        if matches(doc):
            key = _hashable(doc.get(field))
            expected[key] = expected.get(key, 0) + 1
    # When the matching documents are counted per value of the field; Then each count is exact
    got = _group_counts(coll, query, field)
    assert {_naive(k): n for k, n in got.items()} == {_naive(k): n for k, n in expected.items()}


def _naive(value: Any) -> Any:
    return value.replace(tzinfo=None) if isinstance(value, datetime) else value


def _matches_clause(value: Any, condition: Any) -> bool:
    if isinstance(condition, dict):
        tests = {"$gt": lambda a, b: a > b, "$lt": lambda a, b: a < b, "$in": lambda a, b: a in b}
        return value is not MISSING and all(tests[op](_naive(value), _naive(arg) if not isinstance(arg, list) else arg)
                                            for op, arg in condition.items())
    return value == condition


def test_a_sorted_read_across_many_batches_keeps_the_documented_order(coll: Any, catalogue: Any) -> None:
    # Given more documents than one batch holds; When a sorted read is consumed batch by batch
    spec = [("price", -1), ("name", 1), ("_id", 1)]
    got = [d["_id"] for d in coll.find({}, {"_id": 1}).sort(spec).batch_size(7)]
    # Then the cursor's later batches continue the same order
    assert got == documented_order(catalogue, spec)
    assert len(got) == 120
