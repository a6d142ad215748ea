"""Persisted chat in a room (an appointment's or an emergency session's): `chat-join`,
`user-message` (stored, then sent to the room's connected members), `typing` (relayed, not
stored), `message-read`, and the history route's pages.

D-52: the reference let any socket send into any chat room and kept nothing; here only the two
participants may join (no time window), and every message is stored before it is delivered.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bson import ObjectId

from functions.core.config import get_settings
from functions.core.db import object_id
from functions.core.envelope import iso_utc
from functions.core.errors import FrameCode, NotFound
from functions.core.security import Principal
from functions.signaling import access
from functions.signaling.caller import Connection
from functions.signaling.delivery import FrameError, push_to_user, room_or_forbidden, send
from functions.signaling.schemas import FrameIn, MessageIn, ReadIn, RoomIn
from functions.signaling.stores import connections, messages, rooms


def in_chat(conn: Connection, room_id: str) -> None:
    if not conn.follows_chat(room_id):
        raise FrameError(FrameCode.NOT_IN_ROOM, "Join the chat first (chat-join)")


def chat_join(conn: Connection, frame: FrameIn, now: datetime) -> None:
    assert isinstance(frame, RoomIn)
    room = room_or_forbidden(frame.roomId, conn.user_id, now, video=False)
    connections.set_chat(conn.id, frame.roomId, True)
    rooms.set_chat_member(frame.roomId, room.kind, conn.user_id, conn.id, now)
    send(conn.id, {"type": "chat-joined", "roomId": frame.roomId})


def message_to_api(doc: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": str(doc["_id"]), "roomId": doc["roomId"], "text": doc["text"], "sender": str(doc["senderId"]),
            "sentAt": iso_utc(doc["sentAt"]), "readAt": iso_utc(doc["readAt"]) if doc.get("readAt") else None}


def chat_members(room_id: str) -> dict[str, str]:
    return dict((rooms.get_room(room_id) or {}).get("chat") or {})


def user_message(conn: Connection, frame: FrameIn, now: datetime) -> None:
    """Stored first, then sent to the room's connected members (the sender's echo is its ack)."""
    assert isinstance(frame, MessageIn)
    in_chat(conn, frame.roomId)
    doc = {"_id": ObjectId(), "roomId": frame.roomId, "senderId": conn.user_id, "text": frame.text,
           "sentAt": now, "readAt": None}
    messages.insert_message(doc)
    out = {"type": "message", **message_to_api(doc), "senderName": conn.name}
    for cid in {*chat_members(frame.roomId).values(), conn.id}:
        send(cid, out)


def typing(conn: Connection, frame: FrameIn, now: datetime) -> None:
    assert isinstance(frame, RoomIn)
    in_chat(conn, frame.roomId)
    for user, cid in chat_members(frame.roomId).items():
        if user != str(conn.user_id):
            send(cid, {"type": "typing", "roomId": frame.roomId, "from": str(conn.user_id)})


def message_read(conn: Connection, frame: FrameIn, now: datetime) -> None:
    assert isinstance(frame, ReadIn)
    doc = messages.mark_read(ObjectId(frame.id), list(conn.chat_rooms), conn.user_id, now)
    if doc is None:
        raise FrameError(FrameCode.NOT_FOUND, "No unread message of the other participant with this id")
    push_to_user(doc["senderId"], {"type": "message-read", "id": frame.id, "roomId": doc["roomId"],
                                   "readAt": iso_utc(now)})


def chat_history(principal: Principal, room_id: str, before: str | None, limit: int
                 ) -> tuple[list[dict[str, Any]], bool]:
    """Participants only (anyone else 404), newest first, `limit` per page."""
    room = access.find_room(room_id, get_settings().join_early_minutes)
    if not access.chat_allowed(room, principal.id):
        raise NotFound.of("Chat")
    cursor = object_id(before, "Message") if before else None
    items = messages.page_messages(room_id, cursor, limit + 1)
    return [message_to_api(doc) for doc in items[:limit]], len(items) > limit
