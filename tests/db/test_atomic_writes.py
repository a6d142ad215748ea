"""Single-document writes are atomic under concurrency, as on MongoDB (the embedded FerretDB
needs the build's `atomic-writes` patch for this: upstream v1.24 loses most of these races).

Each trial releases 30 real clients (own connection each, one thread each) at a barrier."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from pymongo import MongoClient

CLIENTS = 30
TRIALS = 3


def _race(uri: str, db_name: str, work: Callable[[Any], Any]) -> list[Any]:
    clients = [MongoClient(uri, tz_aware=True) for _ in range(CLIENTS)]
    for client in clients:
        client.admin.command("ping")  # connected before the barrier, so the writes really overlap
    barrier = threading.Barrier(CLIENTS)
    results: list[Any] = [None] * CLIENTS

    def run(i: int) -> None:
        barrier.wait()
        results[i] = work(clients[i][db_name]["conformance"])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for client in clients:
        client.close()
    return results


@pytest.mark.parametrize("trial", range(TRIALS))
def test_concurrent_incs_all_count(coll: Any, mongo_uri: str, trial: int) -> None:
    # Given a counter at 0
    coll.insert_one({"_id": "counter", "n": 0})
    # When 30 clients each add 1 at the same moment
    _race(mongo_uri, coll.database.name, lambda c: c.update_one({"_id": "counter"}, {"$inc": {"n": 1}}))
    # Then none is lost
    assert coll.find_one({"_id": "counter"})["n"] == CLIENTS


@pytest.mark.parametrize("trial", range(TRIALS))
def test_a_conditional_find_one_and_update_has_exactly_one_winner(coll: Any, mongo_uri: str, trial: int) -> None:
    # Given a claim that is still free
    coll.insert_one({"_id": "claim", "v": 0})
    # When 30 clients try to take it at once
    results = _race(mongo_uri, coll.database.name,
                    lambda c: c.find_one_and_update({"_id": "claim", "v": 0}, {"$inc": {"v": 1}}))
    # Then exactly one saw it free, and it was taken once
    assert sum(r is not None for r in results) == 1
    assert coll.find_one({"_id": "claim"})["v"] == 1


@pytest.mark.parametrize("trial", range(TRIALS))
def test_a_conditional_update_one_modifies_once_in_total(coll: Any, mongo_uri: str, trial: int) -> None:
    # Given a pending order
    coll.insert_one({"_id": "order", "status": "pending", "by": None})
    # When 30 clients each move it from pending to cancelled
    results = _race(mongo_uri, coll.database.name, lambda c: c.update_one(
        {"_id": "order", "status": "pending"}, {"$set": {"status": "cancelled"}, "$inc": {"times": 1}}))
    # Then one modification happened in total
    assert sum(r.modified_count for r in results) == 1
    assert coll.find_one({"_id": "order"})["times"] == 1


@pytest.mark.parametrize("trial", range(TRIALS))
def test_stock_taken_with_a_guard_never_goes_negative(coll: Any, mongo_uri: str, trial: int) -> None:
    # Given 10 units in stock
    coll.insert_one({"_id": "med", "stock": 10})
    # When 30 clients each take one unit if there is one
    results = _race(mongo_uri, coll.database.name, lambda c: c.update_one(
        {"_id": "med", "stock": {"$gte": 1}}, {"$inc": {"stock": -1}}))
    # Then exactly 10 succeeded and the stock is 0
    assert sum(r.modified_count for r in results) == 10
    assert coll.find_one({"_id": "med"})["stock"] == 0


@pytest.mark.parametrize("trial", range(TRIALS))
def test_concurrent_deletes_of_one_document_delete_it_once(coll: Any, mongo_uri: str, trial: int) -> None:
    # Given one claim document
    coll.insert_one({"_id": "c", "owner": "a"})
    # When 30 clients delete it at once
    results = _race(mongo_uri, coll.database.name, lambda c: c.delete_one({"_id": "c", "owner": "a"}))
    # Then exactly one deletion is reported
    assert sum(r.deleted_count for r in results) == 1


@pytest.mark.parametrize("trial", range(TRIALS))
def test_an_upserted_counter_hands_out_distinct_numbers(coll: Any, mongo_uri: str, trial: int) -> None:
    # Given no counter yet (the first caller creates it)
    from pymongo import ReturnDocument

    # When 30 clients take the next number at once
    def take(c: Any) -> int:
        from pymongo.errors import DuplicateKeyError

        while True:  # two first-ever upserts may collide on _id: MongoDB documents retrying that
            try:
                return int(c.find_one_and_update({"_id": "seq"}, {"$inc": {"n": 1}}, upsert=True,
                                                 return_document=ReturnDocument.AFTER)["n"])
            except DuplicateKeyError:
                continue

    numbers = _race(mongo_uri, coll.database.name, take)
    # Then every number from 1 to 30 was handed out once
    assert sorted(numbers) == list(range(1, CLIENTS + 1))
