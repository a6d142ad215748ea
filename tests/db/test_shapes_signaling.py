"""Conformance of the shapes the signaling domain sends (connections with their per-second frame
counters, rooms with their member maps, read receipts, chat history pages, claim documents).
Each test runs the shape on a small collection and asserts MongoDB's answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from bson import ObjectId
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError, OperationFailure

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
A, B = ObjectId("65f000000000000000000001"), ObjectId("65f000000000000000000002")


def test_a_frame_counter_per_second_refuses_past_the_limit_and_drops_old_seconds(coll: Any) -> None:
    # The touch of every WebSocket frame: count in `rl.<second>` unless it reached the limit.
    coll.insert_one({"_id": "c1", "expiresAt": NOW + timedelta(hours=2), "rl": {"99": 7}})

    def touch(sec: int) -> Any:
        return coll.find_one_and_update(
            {"_id": "c1", "expiresAt": {"$gt": NOW}, f"rl.{sec}": {"$not": {"$gte": 2}}},
            {"$inc": {f"rl.{sec}": 1}, "$unset": {f"rl.{sec - 1}": "", f"rl.{sec - 2}": ""}},
            return_document=ReturnDocument.AFTER)

    assert touch(100)["rl"] == {"100": 1}  # "99" dropped, "100" created
    assert touch(100)["rl"] == {"100": 2}
    assert touch(100) is None  # third frame in the same second: refused, not counted
    assert coll.find_one({"_id": "c1"})["rl"] == {"100": 2}
    assert touch(105)["rl"] == {"100": 2, "105": 1}  # an idle gap leaves an old key behind
    coll.update_one({"_id": "c1"}, {"$unset": {"rl.100": ""}})
    assert coll.find_one({"_id": "c1"})["rl"] == {"105": 1}
    assert coll.find_one_and_update({"_id": "c1", "expiresAt": {"$gt": NOW + timedelta(hours=3)}},
                                    {"$inc": {"rl.106": 1}}) is None


def test_told_once_per_second_by_a_not_equal_on_a_scalar(coll: Any) -> None:
    coll.insert_one({"_id": "c1"})
    told = [coll.update_one({"_id": "c1", "rlTold": {"$ne": sec}}, {"$set": {"rlTold": sec}}).modified_count
            for sec in (100, 100, 101, 101, 101)]
    assert told == [1, 0, 1, 0, 0]


def test_room_members_as_a_map_with_a_size_under_two(coll: Any) -> None:
    # add_member: upsert while size < 2 and the user is not in yet; a full room collides on _id.
    def add(user: ObjectId, cid: str) -> Any:
        return coll.find_one_and_update(
            {"_id": "room1", "size": {"$lt": 2}, f"members.{user}": {"$exists": False}},
            {"$set": {f"members.{user}": cid, "kind": "appointment"}, "$inc": {"size": 1}},
            upsert=True, return_document=ReturnDocument.BEFORE)

    assert add(A, "ca") is None  # created
    before = add(B, "cb")
    assert before["members"] == {str(A): "ca"} and before["size"] == 1
    with pytest.raises((DuplicateKeyError, OperationFailure)):
        add(ObjectId(), "cz")
    # replace_member: only for a member; the document before tells the old connection
    replaced = coll.find_one_and_update({"_id": "room1", f"members.{A}": {"$exists": True}},
                                        {"$set": {f"members.{A}": "ca2"}}, return_document=ReturnDocument.BEFORE)
    assert replaced["members"][str(A)] == "ca"
    assert coll.find_one_and_update({"_id": "room1", f"members.{ObjectId()}": {"$exists": True}},
                                    {"$set": {"x": 1}}) is None
    # remove_member: only while that connection is still the member's
    assert coll.update_one({"_id": "room1", f"members.{A}": "ca"},
                           {"$unset": {f"members.{A}": ""}, "$inc": {"size": -1}}).modified_count == 0
    assert coll.update_one({"_id": "room1", f"members.{A}": "ca2"},
                           {"$unset": {f"members.{A}": ""}, "$inc": {"size": -1}}).modified_count == 1
    assert coll.find_one({"_id": "room1"}) == {"_id": "room1", "members": {str(B): "cb"}, "size": 1,
                                               "kind": "appointment"}


def test_chat_maps_set_with_set_on_insert(coll: Any) -> None:
    for cid in ("c1", "c2"):
        coll.update_one({"_id": "room2"}, {"$set": {f"chat.{A}": cid, "updatedAt": NOW},
                                           "$setOnInsert": {"kind": "emergency", "size": 0}}, upsert=True)
    coll.update_one({"_id": "conn"}, {"$set": {"chat.room2": True}}, upsert=True)
    assert coll.find_one({"_id": "room2"}) == {"_id": "room2", "chat": {str(A): "c2"}, "updatedAt": NOW,
                                               "kind": "emergency", "size": 0}
    assert coll.find_one({"_id": "conn"})["chat"] == {"room2": True}
    coll.update_one({"_id": "conn"}, {"$unset": {"chat.room2": ""}})
    assert coll.find_one({"_id": "conn"})["chat"] == {}


def test_read_receipt_by_a_room_member_who_is_not_the_sender(coll: Any) -> None:
    m = ObjectId()
    coll.insert_one({"_id": m, "roomId": "r1", "senderId": A, "readAt": None})

    def read(reader: ObjectId, rooms: list[str]) -> Any:
        return coll.find_one_and_update({"_id": m, "roomId": {"$in": rooms}, "senderId": {"$ne": reader},
                                         "readAt": None}, {"$set": {"readAt": NOW}},
                                        return_document=ReturnDocument.AFTER)

    assert read(A, ["r1"]) is None  # the sender
    assert read(B, ["r2"]) is None  # not in the room
    assert read(B, ["r2", "r1"])["readAt"] == NOW
    assert read(B, ["r1"]) is None  # once


def test_history_page_newest_first_before_a_cursor(coll: Any) -> None:
    ids = [ObjectId() for _ in range(5)]
    coll.insert_many([{"_id": i, "roomId": "r1"} for i in ids] + [{"_id": ObjectId(), "roomId": "r2"}])
    page = list(coll.find({"roomId": "r1", "_id": {"$lt": ids[3]}}).sort("_id", -1).limit(2))
    assert [d["_id"] for d in page] == [ids[2], ids[1]]
    assert [d["_id"] for d in coll.find({"roomId": "r1"}).sort("_id", -1).limit(2)] == [ids[4], ids[3]]


def test_a_claim_document_is_taken_once_per_period(coll: Any) -> None:
    def take(now: datetime) -> bool:
        try:
            coll.update_one({"_id": "emergency:p1", "until": {"$lte": now}},
                            {"$set": {"until": now + timedelta(minutes=1)}}, upsert=True)
        except (DuplicateKeyError, OperationFailure):
            return False
        return True

    assert take(NOW) is True
    assert take(NOW + timedelta(seconds=30)) is False
    assert take(NOW + timedelta(seconds=60)) is True
    assert coll.find_one({"_id": "emergency:p1"})["until"] == NOW + timedelta(minutes=2)


def test_the_live_sockets_of_a_user_opened_before_a_time(coll: Any) -> None:
    # end_sessions(opened_before=...): the sockets an admin decision took away, not those opened after
    later = NOW + timedelta(minutes=5)
    coll.insert_many([
        {"_id": "before", "userId": A, "jti": "j1", "connectedAt": NOW, "expiresAt": NOW + timedelta(hours=2)},
        {"_id": "after", "userId": A, "jti": "j2", "connectedAt": later, "expiresAt": later + timedelta(hours=2)},
        {"_id": "expired", "userId": A, "jti": "j1", "connectedAt": NOW, "expiresAt": NOW},
        {"_id": "other", "userId": B, "jti": "j3", "connectedAt": NOW, "expiresAt": NOW + timedelta(hours=2)},
    ])
    found = coll.find({"userId": A, "expiresAt": {"$gt": NOW}, "connectedAt": {"$lte": NOW}}, {"_id": 1})
    assert [d["_id"] for d in found] == ["before"]
    found = coll.find({"userId": A, "expiresAt": {"$gt": NOW}, "jti": "j2", "connectedAt": {"$lte": later}},
                      {"_id": 1})
    assert [d["_id"] for d in found] == ["after"]


def test_a_users_frame_shares_are_only_ever_lowered(coll: Any) -> None:
    # lower_share: every live connection of the user whose share is above the new one gets it.
    coll.insert_many([{"_id": "c1", "userId": A, "expiresAt": NOW + timedelta(hours=1), "share": 20},
                      {"_id": "c2", "userId": A, "expiresAt": NOW + timedelta(hours=1), "share": 10},
                      {"_id": "c3", "userId": A, "expiresAt": NOW - timedelta(seconds=1), "share": 20},
                      {"_id": "c4", "userId": B, "expiresAt": NOW + timedelta(hours=1), "share": 20}])

    def lower(share: int) -> int:
        return coll.update_many({"userId": A, "expiresAt": {"$gt": NOW}, "share": {"$gt": share}},
                                {"$set": {"share": share}}).modified_count

    assert lower(13) == 1
    assert lower(20) == 0  # never raised
    assert {d["_id"]: d["share"] for d in coll.find({})} == {"c1": 13, "c2": 10, "c3": 20, "c4": 20}
    # live_connections: the user's unexpired connections with their opening time and order
    found = coll.find({"userId": A, "expiresAt": {"$gt": NOW}}, {"_id": 1, "connectedAt": 1, "order": 1})
    assert sorted(d["_id"] for d in found) == ["c1", "c2"]
