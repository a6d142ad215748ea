"""The `messages` collection: chat messages `{_id, roomId, senderId, text, sentAt, readAt}`,
paged newest first by `_id` within a room.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument

from functions.core.db import get_db

MESSAGES = "messages"

# `by_sender`: a user's data export and the erase of a deleted account.
INDEXES = {MESSAGES: [IndexModel([("roomId", ASCENDING), ("_id", DESCENDING)], name="room_newest"),
                      IndexModel([("senderId", ASCENDING), ("_id", ASCENDING)], name="by_sender")]}


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



def of_sender(sender_id: ObjectId, limit: int) -> list[dict[str, Any]]:
    """The messages a user sent, oldest first (index `by_sender`)."""
    return list(get_db()[MESSAGES].find({"senderId": sender_id}).sort("_id", ASCENDING).limit(limit))


def delete_sent_by(sender_id: ObjectId) -> int:
    """Every chat message the user sent (the erase of their account; index `by_sender`)."""
    return int(get_db()[MESSAGES].delete_many({"senderId": sender_id}).deleted_count)
