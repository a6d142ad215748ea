"""Conformance of the update shapes the prescriptions domain sends: the all-or-nothing
conditional `$inc` on the `remaining` map (dispensing and giving back), with `$addToSet` of the
pharmacist's id. Each test runs the shape on a small collection and asserts MongoDB's answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
P, F1, F2 = ObjectId("65f000000000000000000001"), ObjectId("65f000000000000000000002"), \
    ObjectId("65f000000000000000000003")


def _rx(coll: Any) -> None:
    coll.insert_one({"_id": 1, "patient": P, "status": "active", "validUntil": NOW + timedelta(days=1),
                     "remaining": {"m0": 5, "m1": 2}, "pharmacistIds": []})


def _consume(coll: Any, takes: dict[str, int], pharmacist: ObjectId, now: datetime = NOW) -> int:
    query: dict[str, Any] = {"_id": 1, "patient": P, "status": "active", "validUntil": {"$gt": now}}
    query.update({f"remaining.{k}": {"$gte": q} for k, q in takes.items()})
    result = coll.update_one(query, {"$inc": {f"remaining.{k}": -q for k, q in takes.items()},
                                     "$addToSet": {"pharmacistIds": pharmacist}, "$set": {"updatedAt": now}})
    return int(result.modified_count)


def _give_back(coll: Any, gives: dict[str, tuple[int, int]]) -> int:
    query: dict[str, Any] = {"_id": 1}
    query.update({f"remaining.{k}": {"$lte": cap - q} for k, (q, cap) in gives.items()})
    result = coll.update_one(query, {"$inc": {f"remaining.{k}": q for k, (q, _) in gives.items()},
                                     "$set": {"updatedAt": NOW}})
    return int(result.modified_count)


def test_a_conditional_inc_on_map_keys_takes_every_line_or_none(coll: Any) -> None:
    _rx(coll)
    # enough of both: both taken, the pharmacist recorded once even when they come back
    assert _consume(coll, {"m0": 3, "m1": 2}, F1) == 1
    assert _consume(coll, {"m0": 1}, F1) == 1
    doc = coll.find_one({"_id": 1})
    assert doc["remaining"] == {"m0": 1, "m1": 0} and doc["pharmacistIds"] == [F1]
    # one key short: nothing changes, not even the other key or the pharmacists
    assert _consume(coll, {"m0": 1, "m1": 1}, F2) == 0
    assert coll.find_one({"_id": 1})["remaining"] == {"m0": 1, "m1": 0}
    assert coll.find_one({"_id": 1})["pharmacistIds"] == [F1]
    # exactly what is left: taken, and a second pharmacist is added
    assert _consume(coll, {"m0": 1}, F2) == 1
    doc = coll.find_one({"_id": 1})
    assert doc["remaining"]["m0"] == 0 and doc["pharmacistIds"] == [F1, F2]


def test_the_other_conditions_of_the_consuming_write(coll: Any) -> None:
    _rx(coll)
    # expired (validUntil not after now), another patient, not active: nothing matches
    assert _consume(coll, {"m0": 1}, F1, now=NOW + timedelta(days=2)) == 0
    assert coll.update_one({"_id": 1, "patient": F1, "remaining.m0": {"$gte": 1}},
                           {"$inc": {"remaining.m0": -1}}).modified_count == 0
    coll.update_one({"_id": 1}, {"$set": {"status": "revoked"}})
    assert _consume(coll, {"m0": 1}, F1) == 0
    assert coll.find_one({"_id": 1})["remaining"] == {"m0": 5, "m1": 2}


def test_giving_back_never_exceeds_the_cap(coll: Any) -> None:
    _rx(coll)
    _consume(coll, {"m0": 4}, F1)
    # cap 5, 1 left: giving 4 back is allowed once, a repeat is refused by the $lte condition
    assert _give_back(coll, {"m0": (4, 5)}) == 1
    assert _give_back(coll, {"m0": (4, 5)}) == 0
    assert coll.find_one({"_id": 1})["remaining"] == {"m0": 5, "m1": 2}
    # several keys: all or nothing
    _consume(coll, {"m0": 2}, F1)
    assert _give_back(coll, {"m0": (2, 5), "m1": (1, 2)}) == 0
    assert _give_back(coll, {"m0": (2, 5)}) == 1
    assert coll.find_one({"_id": 1})["remaining"] == {"m0": 5, "m1": 2}


def test_a_reservation_records_its_order_in_the_same_write_and_is_released_once(coll: Any) -> None:
    # Given a prescription, When an order reserves from it (its record set in the same write)
    _rx(coll)
    order = ObjectId()
    query: dict[str, Any] = {"_id": 1, "patient": P, "status": "active", "validUntil": {"$gt": NOW},
                             "remaining.m0": {"$gte": 3}}
    assert coll.update_one(query, {"$inc": {"remaining.m0": -3}, "$addToSet": {"pharmacistIds": F1},
                                   "$set": {"updatedAt": NOW, f"reservations.{order}": {"takes": {"m0": 3}, "at": NOW},
                                            "reservationsPending": True}}).modified_count == 1
    # Then the prescriptions with pending reservations are found by one equality
    found = list(coll.find({"reservationsPending": True}, {"reservations": 1}).limit(100))
    assert [d["_id"] for d in found] == [1] and found[0]["reservations"][str(order)]["takes"] == {"m0": 3}
    # And a release conditional on the record gives back once
    back = {"_id": 1, f"reservations.{order}": {"$exists": True}}
    update = {"$inc": {"remaining.m0": 3}, "$unset": {f"reservations.{order}": ""}, "$set": {"updatedAt": NOW}}
    assert coll.update_one(back, update).modified_count == 1
    assert coll.update_one(back, update).modified_count == 0
    doc = coll.find_one({"_id": 1})
    assert doc["remaining"] == {"m0": 5, "m1": 2} and doc["reservations"] == {}
    # And settling a record keeps what was taken; the flag goes with the last record
    coll.update_one(query, {"$inc": {"remaining.m0": -1},
                            "$set": {f"reservations.{order}": {"takes": {"m0": 1}, "at": NOW}}})
    assert coll.update_one(back, {"$unset": {f"reservations.{order}": ""}}).modified_count == 1
    assert coll.update_one({"_id": 1, "reservations": {}}, {"$unset": {"reservationsPending": ""}}).modified_count == 1
    doc = coll.find_one({"_id": 1})
    assert doc["remaining"]["m0"] == 4 and "reservationsPending" not in doc
