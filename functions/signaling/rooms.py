"""Video rooms: join (authorised, paired, replacing a participant's older connection), leave,
and the relay of offers, answers and ICE candidates to the other member only.

A room holds its two participants (D-52: the reference let one socket fill a room by joining
twice, and relayed into rooms the sender was not in). The sender's connection document names its
room and peer, so a relay costs the one `touch_connection` already done for the frame and one post.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bson import ObjectId

from functions.core.errors import FrameCode
from functions.signaling.caller import Connection
from functions.signaling.delivery import FrameError, room_or_forbidden, send, vacate
from functions.signaling.schemas import FrameIn, IceIn, RoomIn
from functions.signaling.stores import connections, rooms


def join_room(conn: Connection, frame: FrameIn, now: datetime) -> None:
    """Pairing order: the connection records the room first, then the room records the member,
    then whoever finds the other member pairs both connections. Of two simultaneous joins
    the second room write sees the first member, so exactly one of them pairs."""
    assert isinstance(frame, RoomIn)
    cid, user_id, room_id = conn.id, conn.user_id, frame.roomId
    room = room_or_forbidden(room_id, user_id, now, video=True)
    if conn.room and conn.room != room_id:
        vacate(conn, conn.room)
    connections.enter_room(cid, room_id)
    before = rooms.replace_member(room_id, user_id, cid, now)
    if before is None:
        try:
            before = rooms.add_member(room_id, room.kind, user_id, cid, now) or {}
        except rooms.RoomFull:
            connections.leave_room(cid, room_id)
            send(cid, {"type": "room-full", "roomId": room_id})
            return
    members = dict(before.get("members") or {})
    previous = members.pop(str(user_id), None)
    if previous and previous != cid:  # this participant's older connection gives way
        connections.leave_room(previous, room_id)
    send(cid, {"type": "joined", "roomId": room_id, "waiting": not members})
    for other_user, other_cid in members.items():
        connections.set_peer(cid, room_id, other_cid, ObjectId(other_user))
        connections.set_peer(other_cid, room_id, cid, user_id)
        send(other_cid, {"type": "ready", "roomId": room_id, "peer": str(user_id), "initiator": False})
        send(cid, {"type": "ready", "roomId": room_id, "peer": other_user, "initiator": True})


def leave_room(conn: Connection, frame: FrameIn, now: datetime) -> None:
    assert isinstance(frame, RoomIn)
    if conn.room != frame.roomId:
        raise FrameError(FrameCode.NOT_IN_ROOM, "You are not in this room")
    connections.leave_room(conn.id, frame.roomId)
    vacate(conn, frame.roomId)
    send(conn.id, {"type": "left", "roomId": frame.roomId})


def relay(conn: Connection, frame: FrameIn, now: datetime) -> None:
    """offer / answer / ice-candidate: only to the other member of the sender's room."""
    assert isinstance(frame, RoomIn)
    if conn.room != frame.roomId:
        raise FrameError(FrameCode.NOT_IN_ROOM, "Join the room first")
    peer = conn.peer
    if not peer:
        raise FrameError(FrameCode.NO_PEER, "The other participant is not in the room")
    payload: dict[str, Any] = {"type": frame.action, "roomId": frame.roomId, "from": str(conn.user_id)}
    if isinstance(frame, IceIn):
        payload["candidate"] = frame.candidate
    else:
        key = frame.action  # "offer" | "answer"
        payload[key] = getattr(frame, key)
    send(peer, payload)


def ping(conn: Connection, frame: FrameIn, now: datetime) -> None:
    """Keep-alive within API Gateway's 10-minute idle cut."""
    send(conn.id, {"type": "pong"})
