"""The `rooms` collection: one document per room id (an appointment's `roomId` or an emergency
session's): `{_id: roomId, kind, members: {<userId>: connectionId}, size, chat: {<userId>:
connectionId}, updatedAt, expiresAt}`. `members` are the (at most two) connections in the video
call, `chat` the connection each participant follows the chat on. A room untouched for
`ROOM_TTL` is purged by the sweeper (TTL indexes are not enforced on the embedded FerretDB).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, IndexModel, ReturnDocument

from functions.core.db import get_db, unless_duplicate

ROOMS = "rooms"

INDEXES = {ROOMS: [IndexModel([("expiresAt", ASCENDING)], expireAfterSeconds=0, name="ttl_expiry")]}

ROOM_TTL = timedelta(hours=12)


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
