"""Delivering frames to connections, and removing connections that are gone.

Every frame to a browser goes through `send`: a connection the management API reports gone
(410) is removed with its memberships at once, and the send is not retried. Refused frames are
answered with `FrameError`'s `{type: "error", code, message}` on the same connection.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from bson import ObjectId

from functions.core import clock, metrics, outbox
from functions.core.config import get_settings
from functions.core.errors import FrameCode
from functions.core.metrics import Metric
from functions.core.observability import logger
from functions.core.security import DOCTOR
from functions.signaling import access, sender
from functions.signaling.caller import Connection
from functions.signaling.stores import connections, presence, rooms


class FrameError(Exception):
    """A frame that is refused: answered `{type: "error", code, message}` on the same connection,
    which stays usable."""

    def __init__(self, code: FrameCode, message: str, errors: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.errors = code, message, errors or []


def send(cid: str, message: dict[str, Any]) -> bool:
    """Post a frame; a connection that is gone (410) is removed with its memberships, not retried."""
    delivery = sender.send(cid, message)
    if delivery is sender.Delivery.GONE:
        drop_connection(cid)
    return delivery is sender.Delivery.SENT


def push_to_user(user_id: ObjectId, message: dict[str, Any]) -> int:
    """Send a frame to each live connection of that user; returns how many got it."""
    return sum(send(cid, message) for cid in connections.live_connection_ids(user_id, clock.now()))


def deliver_notice(payload: Mapping[str, Any]) -> Sequence[outbox.Effect]:
    """The outbox's handler of a notice (`core.outbox.notice`): the push to the user's live
    connections; when none got it, or the push failed (the gateway or the database away), the
    fallback message for the worker to send. A re-run after a kill may push again (a frame the
    page shows once more), never sends the message twice."""
    try:
        if push_to_user(payload["user"], dict(payload["event"])) > 0:
            return []
    except Exception as exc:
        logger.warning("notice not pushed; sent as its message", extra={"error": type(exc).__name__})
    fallback = payload.get("fallback")
    return [] if not fallback else [outbox.Effect(outbox.MESSAGE, dict(fallback), payload.get("ref"))]


def reply_error(cid: str, code: str, message: str, errors: list[dict[str, str]] | None = None,
                action: str | None = None) -> None:
    """Answer `{type: "error", code, message[, errors][, action]}`: `code` is a `FrameCode`, or
    `FrameCode.of(error)` for an error a use case raised (the one vocabulary of error frames)."""
    frame: dict[str, Any] = {"type": "error", "code": code, "message": message}
    if errors:
        frame["errors"] = errors
    if action:
        frame["action"] = action
    metrics.count(Metric.WEBSOCKET_FRAME_REFUSED)
    send(cid, frame)


def drop_connection(cid: str) -> None:
    """Remove a connection and its memberships; a peer still in its room gets `peer-left`.
    Runs once per connection (the delete returns the document to one caller only)."""
    doc = connections.delete_connection(cid)
    if doc is None:
        return
    conn = Connection.of(doc)
    if conn.room:
        vacate(conn, conn.room)
    for room_id in conn.chat_rooms:
        rooms.remove_chat_member(room_id, conn.user_id, cid)
    if conn.role == DOCTOR:
        presence.clear_presence(conn.user_id, cid)


def vacate(conn: Connection, room_id: str) -> None:
    """Take the connection out of the room's members; its peer (if it was still paired with it)
    is unpaired and told `peer-left`."""
    if rooms.remove_member(room_id, conn.user_id, conn.id) and conn.peer:
        connections.clear_peer(conn.peer, conn.id)
        send(conn.peer, {"type": "peer-left", "roomId": room_id, "peer": str(conn.user_id)})


def room_or_forbidden(room_id: str, user_id: ObjectId, now: datetime, video: bool) -> access.Room:
    """The room if the user may enter it now (video) or at all (chat); else `forbidden`, the same
    answer whether the room exists or not."""
    room = access.find_room(room_id, get_settings().join_early_minutes)
    allowed = access.video_allowed(room, user_id, now) if video else access.chat_allowed(room, user_id)
    if room is None or not allowed:
        raise FrameError(FrameCode.FORBIDDEN, "You cannot join this room now")
    return room
