"""Indexes (unique, compound, TTL) and the aggregation shapes the application uses, with the
forms in which the two kinds of server report the same thing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.errors import BulkWriteError, DuplicateKeyError, OperationFailure

from functions.core.db import _create_index, is_duplicate_key

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def test_a_unique_index_refuses_a_second_insert_as_e11000(coll: Any) -> None:
    coll.create_index([("contact", ASCENDING)], unique=True)
    coll.insert_one({"contact": "a@x.test"})
    with pytest.raises(DuplicateKeyError) as caught:
        coll.insert_one({"contact": "a@x.test"})
    assert caught.value.code == 11000 and is_duplicate_key(caught.value)


def test_a_unique_violation_on_update_is_recognised_in_the_servers_form(coll: Any, is_ferretdb: bool) -> None:
    # Given two documents and a unique index
    coll.create_index([("slot", ASCENDING)], unique=True)
    coll.insert_many([{"_id": 1, "slot": "a"}, {"_id": 2, "slot": "b"}])
    # When an update would make them collide
    with pytest.raises(OperationFailure) as caught:
        coll.update_one({"_id": 2}, {"$set": {"slot": "a"}})
    # Then the error is a duplicate key in this server's form: 11000 on MongoDB, code 1 naming the
    # SQLite constraint or PostgreSQL's SQLSTATE 23505 on FerretDB
    assert is_duplicate_key(caught.value)
    if is_ferretdb:
        assert caught.value.code == 1
        assert "UNIQUE constraint failed" in str(caught.value) or "SQLSTATE 23505" in str(caught.value)
    else:
        assert caught.value.code == 11000
    assert coll.find_one({"_id": 2})["slot"] == "b"


def test_insert_many_unordered_inserts_all_but_the_duplicates(coll: Any) -> None:
    coll.insert_one({"_id": "doctor|c2"})
    with pytest.raises(BulkWriteError) as caught:
        coll.insert_many([{"_id": "doctor|c1"}, {"_id": "doctor|c2"}, {"_id": "doctor|c3"}], ordered=False)
    assert caught.value.details["nInserted"] == 2
    assert all(e["code"] == 11000 for e in caught.value.details["writeErrors"])


def test_insert_many_ordered_stops_at_the_first_duplicate(coll: Any) -> None:
    coll.insert_one({"_id": "c2"})
    with pytest.raises(BulkWriteError) as caught:
        coll.insert_many([{"_id": "c1"}, {"_id": "c2"}, {"_id": "c3"}], ordered=True)
    assert caught.value.details["nInserted"] == 1
    assert sorted(d["_id"] for d in coll.find({})) == ["c1", "c2"]


def test_a_compound_unique_index_allows_the_same_value_under_another_owner(coll: Any) -> None:
    coll.create_index([("owner", ASCENDING), ("day", ASCENDING), ("n", DESCENDING)], unique=True)
    coll.insert_many([{"owner": 1, "day": "d", "n": 1}, {"owner": 2, "day": "d", "n": 1}])
    with pytest.raises(DuplicateKeyError):
        coll.insert_one({"owner": 1, "day": "d", "n": 1})


def test_creating_the_declared_indexes_twice_is_harmless(coll: Any) -> None:
    # One index per command: FerretDB crashes the connection on a multi-index command whose indexes all exist
    models = [IndexModel([("a", ASCENDING)], name="a_1"), IndexModel([("b", ASCENDING), ("c", ASCENDING)], name="bc"),
              IndexModel([("u", ASCENDING)], unique=True, name="u_1")]
    for _ in range(2):
        assert [_create_index(coll, m) for m in models] == ["a_1", "bc", "u_1"]
    assert {"a_1", "bc", "u_1"} <= {i["name"] for i in coll.list_indexes()}


def test_a_ttl_index_is_declared_everywhere_and_expiry_is_filtered_at_read_time(coll: Any, is_ferretdb: bool) -> None:
    # Given a TTL index (FerretDB refuses TTL: it is then created without expiry)
    name = _create_index(coll, IndexModel([("expiresAt", ASCENDING)], expireAfterSeconds=0, name="ttl"))
    info = {i["name"]: i for i in coll.list_indexes()}[name]
    assert ("expireAfterSeconds" in info) is not is_ferretdb
    # When a document has expired but no purge ran yet
    coll.insert_many([{"_id": "old", "k": 1, "expiresAt": T0 - timedelta(seconds=1)},
                      {"_id": "new", "k": 1, "expiresAt": T0 + timedelta(hours=1)}])
    # Then the read-time filter the code uses hides it, and the sweeper's purge removes it
    assert [d["_id"] for d in coll.find({"k": 1, "expiresAt": {"$gt": T0}})] == ["new"]
    coll.delete_many({"k": 1, "expiresAt": {"$lte": T0}})
    assert [d["_id"] for d in coll.find({"k": 1})] == ["new"]


P1, P2 = ObjectId("65f0000000000000000000a1"), ObjectId("65f0000000000000000000a2")
ORDERS = [{"_id": i, "pharmacy": P1 if i < 5 else P2,
           "status": ["pending", "delivered", "delivered", "cancelled", "delivered", "delivered"][i],
           "day": ["2026-03-01", "2026-03-01", "2026-03-02", "2026-03-02", "2026-03-02", "2026-03-02"][i],
           "total": [100, 250, 300, 80, 120, 999][i], "listed": i % 2 == 0} for i in range(6)]


@pytest.fixture
def orders(coll: Any) -> Any:
    coll.insert_many([dict(o) for o in ORDERS])
    return coll


def test_match_then_group_by_a_field_sums(orders: Any) -> None:
    rows = list(orders.aggregate([
        {"$match": {"pharmacy": ORDERS[0]["pharmacy"], "status": "delivered"}},
        {"$group": {"_id": "$day", "revenue": {"$sum": "$total"}}},
        {"$sort": {"_id": 1}},
    ]))
    assert rows == [{"_id": "2026-03-01", "revenue": 250}, {"_id": "2026-03-02", "revenue": 420}]


def test_match_then_group_by_a_field_counts(orders: Any) -> None:
    rows = list(orders.aggregate([
        {"$match": {"pharmacy": ORDERS[0]["pharmacy"], "status": "delivered"}},
        {"$group": {"_id": "$day", "count": {"$sum": 1}}},
        {"$sort": {"_id": 1}},
    ]))
    assert rows == [{"_id": "2026-03-01", "count": 1}, {"_id": "2026-03-02", "count": 2}]


@pytest.mark.known_difference
def test_several_accumulators_in_one_group(orders: Any, differs_on_ferretdb: Any) -> None:
    differs_on_ferretdb("only the first accumulator of a $group is computed; the others come back 0")
    rows = list(orders.aggregate([
        {"$match": {"pharmacy": ORDERS[0]["pharmacy"], "status": "delivered"}},
        {"$group": {"_id": "$day", "revenue": {"$sum": "$total"}, "count": {"$sum": 1}}},
        {"$sort": {"_id": 1}},
    ]))
    assert rows == [{"_id": "2026-03-01", "revenue": 250, "count": 1},
                    {"_id": "2026-03-02", "revenue": 420, "count": 2}]


def test_group_by_a_compound_key(orders: Any) -> None:
    rows = list(orders.aggregate([
        {"$match": {"pharmacy": ORDERS[0]["pharmacy"]}},
        {"$group": {"_id": {"day": "$day", "status": "$status"}, "n": {"$sum": 1}}},
    ]))
    assert sorted((r["_id"]["day"], r["_id"]["status"], r["n"]) for r in rows) == [
        ("2026-03-01", "delivered", 1), ("2026-03-01", "pending", 1),
        ("2026-03-02", "cancelled", 1), ("2026-03-02", "delivered", 2)]


def test_group_everything_under_a_constant_key(orders: Any) -> None:
    assert list(orders.aggregate([{"$match": {"status": "delivered"}},
                                  {"$group": {"_id": 1, "n": {"$sum": 1}}}])) == [{"_id": 1, "n": 4}]
    assert list(orders.aggregate([{"$match": {"status": "delivered"}},
                                  {"$group": {"_id": 1, "sum": {"$sum": "$total"}}}])) == [{"_id": 1, "sum": 1669}]


@pytest.mark.parametrize("value", [True, "delivered", ORDERS[0]["pharmacy"]])
def test_count_documents_under_an_equality_of_each_type(orders: Any, value: Any) -> None:
    field = {bool: "listed", str: "status", ObjectId: "pharmacy"}[type(value)]
    assert orders.count_documents({field: value}) == sum(o[field] == value for o in ORDERS)


def test_match_sort_limit_for_a_top_n(orders: Any) -> None:
    rows = list(orders.aggregate([{"$match": {"status": "delivered"}}, {"$sort": {"total": -1}}, {"$limit": 2}]))
    assert [r["_id"] for r in rows] == [5, 2]


def test_a_three_key_index_serves_equality_then_range(coll: Any) -> None:
    coll.create_index([("doctor", ASCENDING), ("status", ASCENDING), ("start", ASCENDING)])
    coll.insert_many([{"_id": i, "doctor": i % 2, "status": "booked", "start": T0 + timedelta(hours=i)}
                      for i in range(6)])
    found = coll.find({"doctor": 1, "start": {"$gte": T0 + timedelta(hours=2)}}, sort=[("start", 1)])
    assert [d["_id"] for d in found] == [3, 5]
