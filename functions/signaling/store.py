"""MongoDB access for the signaling domain, and the indexes it relies on.

Collections owned here (only this module writes them):

- `connections`: one document per WebSocket connection, keyed by the gateway's connection id:
  `{_id, userId, role, name, approved, connectedAt, expiresAt, room, peer, peerUserId, chat, online, rl}`.
  `room`/`peer` are the video room this connection is in and the other member's connection, so a
  relayed offer/answer/ICE candidate costs one `find_one_and_update` by `_id` (which also counts
  the frame for the rate limit, `rl.<second>`).
- `rooms`: one document per room id (an appointment's `roomId` or an emergency session's):
  `{_id: roomId, kind, members: {<userId>: connectionId}, size, chat: {<userId>: connectionId}}`.
- `presence`: online doctors, keyed by doctor id: `{_id, online, connectionId, expiresAt}`.
- `emergencies`: emergency sessions `{_id, patientId, patientName, roomId, status, doctorId, deadline, ...}`.
- `messages`: chat `{_id, roomId, senderId, text, sentAt, readAt}`.

All of it lives in the database, not in a process (D-47: the reference kept rooms, the doctor
map and chat rooms in one Node process's memory, so it could not run twice or survive a restart);
every Lambda of the WebSocket API sees the same state.

Expiry: connections live at most 2 h (API Gateway's cap). FerretDB v1.24 refuses TTL indexes
(they are created without expiry there), so every read that relies on expiry also filters on
`expiresAt > now` and the sweeper purges.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument

from functions.core.db import get_db, unless_duplicate

CONNECTIONS = "connections"
ROOMS = "rooms"
PRESENCE = "presence"
EMERGENCIES = "emergencies"
MESSAGES = "messages"

INDEXES = {
    CONNECTIONS: [
        IndexModel([("userId", ASCENDING), ("expiresAt", ASCENDING)], name="user_expiry"),
        IndexModel([("expiresAt", ASCENDING)], expireAfterSeconds=0, name="ttl_expiry"),
    ],
    ROOMS: [IndexModel([("expiresAt", ASCENDING)], expireAfterSeconds=0, name="ttl_expiry")],
    PRESENCE: [IndexModel([("online", ASCENDING), ("expiresAt", ASCENDING)], name="online_expiry")],
    EMERGENCIES: [
        IndexModel([("roomId", ASCENDING)], unique=True, name="uniq_room"),
        IndexModel([("status", ASCENDING), ("deadline", ASCENDING)], name="status_deadline"),
        IndexModel([("patientId", ASCENDING), ("createdAt", DESCENDING)], name="patient_created"),
    ],
    MESSAGES: [IndexModel([("roomId", ASCENDING), ("_id", DESCENDING)], name="room_newest")],
}

ROOM_TTL = timedelta(hours=12)


# ================================================================ connections


def insert_connection(doc: dict[str, Any]) -> None:
    """A new connection (`_id` = the gateway's connection id). A repeated `$connect` for the same
    id replaces the document (the gateway may retry)."""
    get_db()[CONNECTIONS].replace_one({"_id": doc["_id"]}, doc, upsert=True)


def touch_connection(cid: str, now: datetime, max_frames: int) -> dict[str, Any] | None:
    """Count one frame for the connection and return its document (room, peer, user), in ONE
    round trip; None when the connection is unknown or expired, or already sent `max_frames`
    frames in this second (the filter refuses it, so a refused frame is not counted).

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


def live_connection_ids(user_id: ObjectId, now: datetime, jti: str | None = None) -> list[str]:
    """Every unexpired connection of a user, or those opened with one token (index `user_expiry`)."""
    query: dict[str, Any] = {"userId": user_id, "expiresAt": {"$gt": now}}
    if jti is not None:
        query["jti"] = jti
    return [doc["_id"] for doc in get_db()[CONNECTIONS].find(query, {"_id": 1})]


def purge_expired_connections(now: datetime) -> int:
    """Drop connections past API Gateway's 2-hour cap (TTL does it on MongoDB, not on FerretDB)."""
    return int(get_db()[CONNECTIONS].delete_many({"expiresAt": {"$lte": now}}).deleted_count)


# ================================================================ rooms


def replace_member(room_id: str, user_id: ObjectId, cid: str, now: datetime) -> dict[str, Any] | None:
    """A member's new connection replaces their old one; returns the room as it was BEFORE
    (None if the user was not a member)."""
    return get_db()[ROOMS].find_one_and_update(
        {"_id": room_id, f"members.{user_id}": {"$exists": True}},
        {"$set": {f"members.{user_id}": cid, "updatedAt": now, "expiresAt": now + ROOM_TTL}},
        return_document=ReturnDocument.BEFORE,
    )


class RoomFull(Exception):
    """The room already holds two other members."""


def add_member(room_id: str, kind: str, user_id: ObjectId, cid: str, now: datetime) -> dict[str, Any] | None:
    """Add a member while the room holds fewer than two (creating the room on first join);
    returns the room as it was BEFORE (None when it was created). A full room matches nothing,
    so the upsert's insert collides with the existing `_id`: that refusal is `RoomFull`."""
    before = None
    with unless_duplicate() as full:
        before = get_db()[ROOMS].find_one_and_update(
            {"_id": room_id, "size": {"$lt": 2}, f"members.{user_id}": {"$exists": False}},
            {"$set": {f"members.{user_id}": cid, "updatedAt": now, "expiresAt": now + ROOM_TTL, "kind": kind},
             "$inc": {"size": 1}},
            upsert=True, return_document=ReturnDocument.BEFORE,
        )
    if full:
        raise RoomFull(room_id)
    return before


def remove_member(room_id: str, user_id: ObjectId, cid: str) -> bool:
    """Remove the member only if `cid` is still their connection (a newer one is kept)."""
    result = get_db()[ROOMS].update_one({"_id": room_id, f"members.{user_id}": cid},
                                     {"$unset": {f"members.{user_id}": ""}, "$inc": {"size": -1}})
    return result.modified_count == 1


def set_chat_member(room_id: str, kind: str, user_id: ObjectId, cid: str, now: datetime) -> None:
    """The user's chat follows `cid` from now on (their newest chat connection wins)."""
    get_db()[ROOMS].update_one(
        {"_id": room_id},
        {"$set": {f"chat.{user_id}": cid, "updatedAt": now, "expiresAt": now + ROOM_TTL},
         "$setOnInsert": {"kind": kind, "size": 0}},
        upsert=True,
    )


def remove_chat_member(room_id: str, user_id: ObjectId, cid: str) -> None:
    get_db()[ROOMS].update_one({"_id": room_id, f"chat.{user_id}": cid}, {"$unset": {f"chat.{user_id}": ""}})


def get_room(room_id: str) -> dict[str, Any] | None:
    return get_db()[ROOMS].find_one({"_id": room_id})


def purge_idle_rooms(now: datetime) -> int:
    """Rooms untouched for `ROOM_TTL` (TTL does it on MongoDB, not on FerretDB)."""
    return int(get_db()[ROOMS].delete_many({"expiresAt": {"$lte": now}}).deleted_count)


# ================================================================ presence (online doctors)


def set_presence(doctor_id: ObjectId, cid: str, now: datetime, expires: datetime) -> None:
    """The doctor is online on `cid` (their newest `doctorConnect` wins)."""
    get_db()[PRESENCE].update_one(
        {"_id": doctor_id},
        {"$set": {"online": True, "connectionId": cid, "since": now, "expiresAt": expires}}, upsert=True)


def clear_presence(doctor_id: ObjectId, cid: str) -> None:
    """Offline, unless the doctor has come online on a newer connection meanwhile."""
    get_db()[PRESENCE].delete_one({"_id": doctor_id, "connectionId": cid})


def online_doctors(now: datetime) -> list[dict[str, Any]]:
    """Online doctors whose connection has not expired (index `online_expiry`)."""
    return list(get_db()[PRESENCE].find({"online": True, "expiresAt": {"$gt": now}},
                                     {"connectionId": 1}).limit(1000))


def purge_expired_presence(now: datetime) -> int:
    return int(get_db()[PRESENCE].delete_many({"online": True, "expiresAt": {"$lte": now}}).deleted_count)


# ================================================================ emergencies


def insert_emergency(doc: dict[str, Any]) -> None:
    get_db()[EMERGENCIES].insert_one(doc)


def claim_emergency(session_id: ObjectId, doctor_id: ObjectId, doctor_name: str | None,
                    now: datetime) -> dict[str, Any] | None:
    """First accept wins: the session moves from `pending` to `assigned` in one conditional
    write, so of many doctors accepting at once exactly one gets the document back."""
    return get_db()[EMERGENCIES].find_one_and_update(
        {"_id": session_id, "status": "pending", "deadline": {"$gt": now}},
        {"$set": {"status": "assigned", "doctorId": doctor_id, "doctorName": doctor_name, "acceptedAt": now}},
        return_document=ReturnDocument.AFTER,
    )


def expire_emergency(session_id: ObjectId, now: datetime) -> dict[str, Any] | None:
    """A pending session past its deadline becomes `unanswered` (once: the status decides)."""
    return get_db()[EMERGENCIES].find_one_and_update(
        {"_id": session_id, "status": "pending", "deadline": {"$lte": now}},
        {"$set": {"status": "unanswered", "closedAt": now}},
        return_document=ReturnDocument.AFTER,
    )


def get_emergency(session_id: ObjectId) -> dict[str, Any] | None:
    return get_db()[EMERGENCIES].find_one({"_id": session_id})


def find_emergency_by_room(room_id: str) -> dict[str, Any] | None:
    return get_db()[EMERGENCIES].find_one({"roomId": room_id})


def due_emergencies(now: datetime, limit: int = 100) -> list[ObjectId]:
    """Pending sessions whose deadline has passed (index `status_deadline`)."""
    return [doc["_id"] for doc in get_db()[EMERGENCIES].find({"status": "pending", "deadline": {"$lte": now}},
                                                          {"_id": 1}).limit(limit)]


def shares_emergency(patient_id: ObjectId, doctor_id: ObjectId) -> bool:
    """The doctor was assigned an emergency session of this patient."""
    return get_db()[EMERGENCIES].find_one({"patientId": patient_id, "doctorId": doctor_id}, {"_id": 1}) is not None


# ================================================================ chat messages


def insert_message(doc: dict[str, Any]) -> None:
    get_db()[MESSAGES].insert_one(doc)


def page_messages(room_id: str, before: ObjectId | None, limit: int) -> list[dict[str, Any]]:
    """Newest first, strictly older than `before` (cursor pagination on `_id`, index `room_newest`)."""
    query: dict[str, Any] = {"roomId": room_id}
    if before is not None:
        query["_id"] = {"$lt": before}
    return list(get_db()[MESSAGES].find(query).sort("_id", DESCENDING).limit(limit))


def mark_read(message_id: ObjectId, room_ids: list[str], reader_id: ObjectId, now: datetime
              ) -> dict[str, Any] | None:
    """Set `readAt` once, only by a member of the message's room who did not send it."""
    return get_db()[MESSAGES].find_one_and_update(
        {"_id": message_id, "roomId": {"$in": room_ids}, "senderId": {"$ne": reader_id}, "readAt": None},
        {"$set": {"readAt": now}},
        return_document=ReturnDocument.AFTER,
    )
