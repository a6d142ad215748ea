"""The `connections` collection: one document per WebSocket connection, keyed by the gateway's
connection id: `{_id, userId, jti, role, name, approved, connectedAt, order, expiresAt, share,
room, peer, peerUserId, chat, online, rl}`.

`room`/`peer` are the video room this connection is in and the other member's connection, so a
relayed offer/answer/ICE candidate costs one `find_one_and_update` by `_id` (`touch_connection`,
which also counts the frame for the frame budget, `rl.<second>`). `chat` maps the room ids whose
chat this connection follows. `share` is this connection's part of its user's frame budget
(`WS_MAX_FRAMES_PER_USER_PER_SECOND`), lowered when the user opens another connection; `order`
(an ObjectId made at `$connect`) breaks ties between connections opened in the same instant.
A connection lives at most 2 h (API Gateway's cap) and never past its token's expiry: reads
filter on `expiresAt > now`, the sweeper purges (TTL indexes are not enforced on FerretDB).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, IndexModel, ReturnDocument

from functions.core.db import get_db

CONNECTIONS = "connections"

INDEXES = {
    CONNECTIONS: [
        IndexModel([("userId", ASCENDING), ("expiresAt", ASCENDING)], name="user_expiry"),
        IndexModel([("expiresAt", ASCENDING)], expireAfterSeconds=0, name="ttl_expiry"),
    ],
}


def insert_connection(doc: dict[str, Any]) -> None:
    """A new connection (`_id` = the gateway's connection id). A repeated `$connect` for the same
    id replaces the document (the gateway may retry)."""
    get_db()[CONNECTIONS].replace_one({"_id": doc["_id"]}, doc, upsert=True)


def touch_connection(cid: str, now: datetime, max_frames: int) -> dict[str, Any] | None:
    """Count one frame for the connection and return its document (room, peer, user), in ONE
    round trip; None when the connection is unknown or expired, or already sent `max_frames`
    frames in this second (the filter refuses it, so a refused frame is not counted).

    This is the frame budget (`WS_MAX_FRAMES_PER_SECOND`), and the one documented exception to
    the platform's one limiter (`functions.core.throttle`, whose docstring names it too): a take
    there is a round trip of its own on `rate_limits`, while every frame must cost exactly one
    round trip, which already reads this document. So the budget is counted inside it.

    The counter of each second is a key of `rl` named by the second; the two previous seconds'
    keys are dropped in the same write, older ones (left by idle gaps) by `drop_rate_keys`.
    FerretDB v1.24 has no update pipelines, so a reset-or-increment cannot be one `$inc`."""
    sec = int(now.timestamp())
    return get_db()[CONNECTIONS].find_one_and_update(
        {"_id": cid, "expiresAt": {"$gt": now}, f"rl.{sec}": {"$not": {"$gte": max_frames}}},
        {"$inc": {f"rl.{sec}": 1}, "$unset": {f"rl.{sec - 1}": "", f"rl.{sec - 2}": ""}},
        return_document=ReturnDocument.AFTER,
    )


def mark_rate_told(cid: str, second: int) -> bool:
    """True for the first refused frame of a second only, so a flooding client gets one
    `rate_limited` answer per second, not one per frame."""
    result = get_db()[CONNECTIONS].update_one({"_id": cid, "rlTold": {"$ne": second}}, {"$set": {"rlTold": second}})
    return result.modified_count == 1


def drop_rate_keys(cid: str, keys: Iterable[str]) -> None:
    """Remove counters of past seconds (harmless if already gone)."""
    unset = {f"rl.{key}": "" for key in keys}
    if unset:
        get_db()[CONNECTIONS].update_one({"_id": cid}, {"$unset": unset})


def get_connection(cid: str) -> dict[str, Any] | None:
    return get_db()[CONNECTIONS].find_one({"_id": cid})


def delete_connection(cid: str) -> dict[str, Any] | None:
    """Remove the connection and return what it was (None if it was gone already): exactly one
    of two concurrent removals gets the document, so clean-up runs once."""
    return get_db()[CONNECTIONS].find_one_and_delete({"_id": cid})


def enter_room(cid: str, room_id: str) -> bool:
    """The connection is now in `room_id`, with no peer until pairing sets one."""
    result = get_db()[CONNECTIONS].update_one({"_id": cid}, {"$set": {"room": room_id, "peer": None,
                                                                    "peerUserId": None}})
    return result.matched_count == 1


def set_peer(cid: str, room_id: str, peer_cid: str, peer_user_id: ObjectId) -> bool:
    """Pair: only while the connection is still in that room."""
    result = get_db()[CONNECTIONS].update_one({"_id": cid, "room": room_id},
                                           {"$set": {"peer": peer_cid, "peerUserId": peer_user_id}})
    return result.matched_count == 1


def clear_peer(cid: str, expected_peer: str) -> bool:
    """Unpair, only if the peer is still the one that left (a newer pairing is kept)."""
    result = get_db()[CONNECTIONS].update_one({"_id": cid, "peer": expected_peer},
                                           {"$set": {"peer": None, "peerUserId": None}})
    return result.modified_count == 1


def leave_room(cid: str, room_id: str) -> bool:
    """The connection leaves `room_id` (only if it is still in it)."""
    result = get_db()[CONNECTIONS].update_one({"_id": cid, "room": room_id},
                                           {"$set": {"room": None, "peer": None, "peerUserId": None}})
    return result.modified_count == 1


def set_chat(cid: str, room_id: str, joined: bool) -> None:
    """Record (or forget) that this connection follows the chat of `room_id` (a map, since
    FerretDB v1.24 cannot `$pull` by condition)."""
    update = {"$set": {f"chat.{room_id}": True}} if joined else {"$unset": {f"chat.{room_id}": ""}}
    get_db()[CONNECTIONS].update_one({"_id": cid}, update)


def set_online(cid: str, online: bool) -> None:
    get_db()[CONNECTIONS].update_one({"_id": cid}, {"$set": {"online": online}})


def live_connection_ids(user_id: ObjectId, now: datetime, jti: str | None = None,
                        opened_before: datetime | None = None) -> list[str]:
    """Every unexpired connection of a user, or those opened with one token, or at or before a
    time (index `user_expiry`)."""
    query: dict[str, Any] = {"userId": user_id, "expiresAt": {"$gt": now}}
    if jti is not None:
        query["jti"] = jti
    if opened_before is not None:
        query["connectedAt"] = {"$lte": opened_before}
    return [doc["_id"] for doc in get_db()[CONNECTIONS].find(query, {"_id": 1})]


def live_connections(user_id: ObjectId, now: datetime) -> list[dict[str, Any]]:
    """Every unexpired connection of a user with when it was opened (index `user_expiry`)."""
    return list(get_db()[CONNECTIONS].find({"userId": user_id, "expiresAt": {"$gt": now}},
                                           {"_id": 1, "connectedAt": 1, "order": 1}))


def lower_share(user_id: ObjectId, now: datetime, share: int) -> None:
    """Every live connection of the user gets at most `share` frames a second: a share is only
    ever lowered, so of two `$connect`s racing, the one that saw more connections wins."""
    get_db()[CONNECTIONS].update_many({"userId": user_id, "expiresAt": {"$gt": now}, "share": {"$gt": share}},
                                      {"$set": {"share": share}})


def purge_expired_connections(now: datetime) -> int:
    """Drop connections past API Gateway's 2-hour cap (TTL does it on MongoDB, not on FerretDB)."""
    return int(get_db()[CONNECTIONS].delete_many({"expiresAt": {"$lte": now}}).deleted_count)


def delete_of_user(user_id: ObjectId) -> int:
    """Every connection record of the user (the erase of their account; index `user_expiry`)."""
    return int(get_db()[CONNECTIONS].delete_many({"userId": user_id}).deleted_count)
