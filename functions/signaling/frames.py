"""Every frame of the WebSocket API (`$default`): the size cap, the frame budget, parsing, the
handler of its action, and the error frame when it is refused.

Frames are JSON `{action, ...}`; answers and pushes are JSON `{type, ...}` sent through `sender`
(the management API). The event names are the reference's Socket.IO ones. The handlers live by
concern: `rooms` (video), `presence`, `emergencies`, `chat`.

Costs on the hot path: every frame first runs `connections.touch_connection`, one
`find_one_and_update` by connection id that counts the frame for `WS_MAX_FRAMES_PER_SECOND` (the
frame budget: the one limiter outside `core.throttle`, see there) and returns the connection's
user, room and peer. The per-user budget (`WS_MAX_FRAMES_PER_USER_PER_SECOND`) is checked on the
same answer: the document carries its `share` of the user's budget (written at `$connect`,
`connections.keep_newest`), and a frame past it is refused without another read. A relayed
offer/answer/ICE candidate therefore costs one database round trip and one management-API post.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from functions.core import clock
from functions.core.bodies import refuse_unusable_text
from functions.core.config import get_settings
from functions.core.errors import AppError, FrameCode, ValidationFailed
from functions.core.validation import field_errors
from functions.signaling import chat, emergencies, presence, rooms, sender
from functions.signaling.caller import Connection
from functions.signaling.connections import OK, answer_when_database_away, event_context
from functions.signaling.delivery import FrameError, drop_connection, reply_error
from functions.signaling.schemas import FRAMES, FrameIn
from functions.signaling.stores import connections

MAX_FRAME_BYTES = 32 * 1024  # API Gateway's WebSocket frame size

HANDLERS: dict[str, Callable[[Connection, FrameIn, datetime], None]] = {
    "ping": rooms.ping,
    "join-room": rooms.join_room,
    "leave-room": rooms.leave_room,
    "offer": rooms.relay,
    "answer": rooms.relay,
    "ice-candidate": rooms.relay,
    "doctorConnect": presence.doctor_connect,
    "emergencyRequest": emergencies.emergency_request,
    "emergency-accept": emergencies.emergency_accept,
    "chat-join": chat.chat_join,
    "user-message": chat.user_message,
    "typing": chat.typing,
    "message-read": chat.message_read,
}
assert set(HANDLERS) == set(FRAMES)


@answer_when_database_away
def on_message(event: Mapping[str, Any]) -> dict[str, Any]:
    context = event_context(event)
    cid = str(context.get("connectionId"))
    body = event.get("body")
    raw = body if isinstance(body, str) and not event.get("isBase64Encoded") else None
    if raw is not None and len(raw.encode()) > MAX_FRAME_BYTES:
        reply_error(cid, FrameCode.TOO_LARGE, f"Frames are limited to {MAX_FRAME_BYTES // 1024} KB")
        return OK
    now = clock.now()
    doc = connections.touch_connection(cid, now, get_settings().ws_max_frames_per_second)
    if doc is None:
        _explain_refused(cid, now)
        return OK
    if over_share(doc, now):
        _tell_rate_limited(cid, now)
        return OK
    _tidy_rate_keys(doc, now)
    conn = Connection.of(doc)
    action = None
    try:
        data = json.loads(raw) if raw is not None else None
        if not isinstance(data, dict):
            raise FrameError(FrameCode.BAD_REQUEST, "A frame is a JSON object with an action")
        _refuse_unusable_text(data)
        action = data.get("action")
        model = FRAMES.get(action) if isinstance(action, str) else None
        if model is None:
            raise FrameError(FrameCode.UNKNOWN_ACTION, "Unknown action")
        frame = model.model_validate(data)
        HANDLERS[str(action)](conn, frame, now)
    except FrameError as exc:
        reply_error(cid, exc.code, exc.message, exc.errors, action if isinstance(action, str) else None)
    except ValueError as exc:  # json.JSONDecodeError and pydantic's ValidationError
        if isinstance(exc, ValidationError):
            reply_error(cid, FrameCode.INVALID, "Invalid fields", field_errors(exc), str(action))
        else:
            reply_error(cid, FrameCode.BAD_REQUEST, "Malformed JSON")
    except AppError as exc:
        reply_error(cid, FrameCode.of(exc), exc.message, action=str(action))
    return OK


def _refuse_unusable_text(data: dict[str, Any]) -> None:
    """Frames follow the rule of every request body (`core.bodies.refuse_unusable_text`)."""
    try:
        refuse_unusable_text(data)
    except ValidationFailed as exc:
        raise FrameError(FrameCode.INVALID, exc.message, exc.errors) from None


def over_share(doc: Mapping[str, Any], now: datetime) -> bool:
    """This frame is past the connection's share of its user's frame budget (counted, refused:
    the per-connection filter still bounds what a flood can count)."""
    share = doc.get("share")
    counted = (doc.get("rl") or {}).get(str(int(now.timestamp())), 0)
    return isinstance(share, int) and counted > share


def _tell_rate_limited(cid: str, now: datetime) -> None:
    if connections.mark_rate_told(cid, int(now.timestamp())):
        reply_error(cid, FrameCode.RATE_LIMITED, "Too many frames; slow down")


def _explain_refused(cid: str, now: datetime) -> None:
    """The touch matched nothing: a connection over its frame rate is told so (once per second,
    so a flood is not answered frame by frame); an unknown or expired one (a lost `$connect`, past the
    2-hour cap or past its token's expiry) is closed."""
    doc = connections.get_connection(cid)
    if doc is not None and doc["expiresAt"] > now:
        _tell_rate_limited(cid, now)
        return
    if doc is not None:
        drop_connection(cid)
    sender.close(cid)


def _tidy_rate_keys(doc: Mapping[str, Any], now: datetime) -> None:
    """Counters of seconds long past (left by idle gaps) are removed now and then."""
    keys = [k for k in (doc.get("rl") or {}) if k != str(int(now.timestamp()))]
    if len(keys) > 4:
        connections.drop_rate_keys(doc["_id"], keys)
