"""Who sent a frame: the connection document that `touch_connection` returned, as a typed
`Connection` (the WebSocket's counterpart of the REST routes' `Principal`).

Its user, role, name and approval are what `$connect` found behind the token, so no frame reads
the user again; its video room, peer and followed chats are as they were when the frame arrived.
A plain class, not a dataclass: every WebSocket Lambda imports it at cold start.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bson import ObjectId

from functions.core.security import DOCTOR


class Connection:
    """One WebSocket connection and its user (read-only by convention: a change is a store write)."""

    __slots__ = ("approved", "chat_rooms", "expires_at", "id", "name", "peer", "role", "room", "source_ip", "user_id")

    def __init__(self, id: str, user_id: ObjectId, role: str | None, name: str | None, approved: bool,
                 expires_at: datetime, room: str | None = None, peer: str | None = None,
                 chat_rooms: tuple[str, ...] = (), source_ip: str | None = None) -> None:
        self.id = id  # the gateway's connection id
        self.user_id = user_id
        self.role = role
        self.name = name
        self.approved = approved
        self.expires_at = expires_at
        self.room = room  # the video room this connection is in
        self.peer = peer  # the other member's connection in that room, once paired
        self.chat_rooms = chat_rooms  # the rooms whose chat this connection follows
        self.source_ip = source_ip  # the client's address at `$connect` (API Gateway's `sourceIp`)

    @classmethod
    def of(cls, doc: Mapping[str, Any]) -> Connection:
        """From a document of the `connections` collection."""
        return cls(str(doc["_id"]), doc["userId"], doc.get("role"), doc.get("name"), bool(doc.get("approved")),
                   doc["expiresAt"], doc.get("room"), doc.get("peer"), tuple(doc.get("chat") or {}),
                   doc.get("ip"))

    @property
    def approved_doctor(self) -> bool:
        return self.role == DOCTOR and self.approved

    def follows_chat(self, room_id: str) -> bool:
        return room_id in self.chat_rooms

    def actor(self) -> dict[str, Any]:
        """The user as `core.audit` records an actor."""
        return {"_id": self.user_id, "role": self.role, "name": self.name}
