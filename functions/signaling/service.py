"""The signaling domain's entry points: the WebSocket API's three Lambdas, the emergency
timeout Lambda, the sweeper's part, what other domains call, and the REST use cases.

`on_connect`, `on_message` and `on_disconnect` get the raw API Gateway event. Frames are JSON
`{action, ...}`; answers and pushes are JSON `{type, ...}` sent through `sender` (the management
API). The event names are the reference's Socket.IO ones. The rules live beside this module:
`rooms` (video), `emergencies` (presence and emergencies), `chat`, `delivery` (sending, removing
gone connections), `access` (who may enter which room when).

Costs on the hot path: every frame first runs `connections.touch_connection`, one `find_one_and_update`
by connection id that counts the frame for `WS_MAX_FRAMES_PER_SECOND` and returns the
connection's user, room and peer. A relayed offer/answer/ICE candidate therefore costs one
database round trip and one management-API post.

What other domains call (through `api`): `start_emergency`, `push_to_user`, `online_doctor_ids`,
`end_sessions`; `sweep` is listed in `functions.registry`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from bson import ObjectId
from pydantic import ValidationError

from functions.appointments import api as appointments
from functions.core import clock, notify, throttle, users
from functions.core.config import get_settings
from functions.core.db import object_id
from functions.core.errors import AppError, Code, Conflict, Forbidden, FrameCode, NotFound, Unauthorized
from functions.core.http import field_errors
from functions.core.observability import logger
from functions.core.security import ADMIN, DOCTOR, PATIENT, authenticate
from functions.core.throttle import Limit
from functions.signaling import chat, emergencies, ice, rooms, sender
from functions.signaling.chat import chat_history
from functions.signaling.delivery import FrameError, drop_connection, push_to_user, reply_error
from functions.signaling.emergencies import emergency_timeout, online_doctor_ids, start_emergency
from functions.signaling.schemas import FRAMES, GENERAL_ROOM, DoctorJoinedIn
from functions.signaling.stores import connections, presence
from functions.signaling.stores import emergencies as emergency_store
from functions.signaling.stores import rooms as room_store

__all__ = ["chat_history", "emergency_timeout", "ice_servers", "notify_doctor_joined", "on_connect",
           "on_disconnect", "on_message", "online_doctor_ids", "push_to_user", "start_emergency", "sweep",
           "user_card"]

MAX_FRAME_BYTES = 32 * 1024  # API Gateway's WebSocket frame size
DOCTOR_JOINED_EVERY = timedelta(minutes=1)  # per appointment
DOCTOR_JOINED = Limit("doctor-joined", 1, DOCTOR_JOINED_EVERY, message="The patient was told a moment ago")
OK = {"statusCode": 200}

HANDLERS: dict[str, Callable[[dict[str, Any], Any, datetime], None]] = {
    "ping": rooms.ping,
    "join-room": rooms.join_room,
    "leave-room": rooms.leave_room,
    "offer": rooms.relay,
    "answer": rooms.relay,
    "ice-candidate": rooms.relay,
    "doctorConnect": emergencies.doctor_connect,
    "emergencyRequest": emergencies.emergency_request,
    "emergency-accept": emergencies.emergency_accept,
    "chat-join": chat.chat_join,
    "user-message": chat.user_message,
    "typing": chat.typing,
    "message-read": chat.message_read,
}
assert set(HANDLERS) == set(FRAMES)


# ================================================================ $connect / $disconnect


def _context(event: Mapping[str, Any]) -> dict[str, Any]:
    context = event.get("requestContext") or {}
    sender.use_event(context)
    return dict(context)


def on_connect(event: Mapping[str, Any]) -> dict[str, Any]:
    """The JWT comes as query parameter `token` (browsers cannot set headers on a WebSocket);
    missing or invalid -> 403, the gateway refuses the connection."""
    context = _context(event)
    token = (event.get("queryStringParameters") or {}).get("token")
    if not token:
        return {"statusCode": 403}
    try:
        principal = authenticate({"authorization": f"Bearer {token}"})
    except (Unauthorized, Forbidden):
        return {"statusCode": 403}
    now = clock.now()
    connections.insert_connection({
        "_id": str(context["connectionId"]),
        "userId": principal.id,
        "jti": str(principal.claims.get("jti")),  # logging that token out closes this socket
        "role": principal.role,
        "name": principal.user.get("name"),
        "approved": principal.approved,
        "connectedAt": now,
        "expiresAt": now + timedelta(seconds=get_settings().ws_connection_ttl_seconds),
        "room": None, "peer": None, "peerUserId": None, "chat": {}, "online": False, "rl": {},
    })
    return OK


def end_sessions(user_id: ObjectId, jti: str | None = None) -> int:
    """Close the sockets opened with a token that no longer counts: the one logged out (`jti`),
    or every token of the user (password changed or reset, account deactivated, approval
    withdrawn). Each is dropped at once (memberships, presence; a peer hears `peer-left`), so no
    frame reaches it any more, and the gateway is asked to close it; API Gateway would otherwise
    keep it open until its 2-hour cap. Returns how many were closed."""
    ids = connections.live_connection_ids(user_id, clock.now(), jti)
    for cid in ids:
        drop_connection(cid)
        sender.close(cid)
    if ids:
        logger.info("Sockets closed after the session ended", extra={"userId": str(user_id), "count": len(ids)})
    return len(ids)


def on_disconnect(event: Mapping[str, Any]) -> dict[str, Any]:
    context = _context(event)
    drop_connection(str(context.get("connectionId")))
    return OK


# ================================================================ $default: every frame


def on_message(event: Mapping[str, Any]) -> dict[str, Any]:
    context = _context(event)
    cid = str(context.get("connectionId"))
    body = event.get("body")
    raw = body if isinstance(body, str) and not event.get("isBase64Encoded") else None
    if raw is not None and len(raw.encode()) > MAX_FRAME_BYTES:
        reply_error(cid, FrameCode.TOO_LARGE, f"Frames are limited to {MAX_FRAME_BYTES // 1024} KB")
        return OK
    now = clock.now()
    conn = connections.touch_connection(cid, now, get_settings().ws_max_frames_per_second)
    if conn is None:
        _explain_refused(cid, now)
        return OK
    _tidy_rate_keys(conn, now)
    action = None
    try:
        data = json.loads(raw) if raw is not None else None
        if not isinstance(data, dict):
            raise FrameError(FrameCode.BAD_REQUEST, "A frame is a JSON object with an action")
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
        reply_error(cid, FrameCode.RATE_LIMITED if exc.status == 429 else exc.code.lower(), exc.message,
                    action=str(action))
    return OK


def _explain_refused(cid: str, now: datetime) -> None:
    """The touch matched nothing: a connection over its frame rate is told so (once per second,
    so a flood is not answered frame by frame); an unknown or expired one (a lost `$connect` or
    past the 2-hour cap) is closed."""
    conn = connections.get_connection(cid)
    if conn is not None and conn["expiresAt"] > now:
        if connections.mark_rate_told(cid, int(now.timestamp())):
            reply_error(cid, FrameCode.RATE_LIMITED, "Too many frames; slow down")
        return
    if conn is not None:
        drop_connection(cid)
    sender.close(cid)


def _tidy_rate_keys(conn: Mapping[str, Any], now: datetime) -> None:
    """Counters of seconds long past (left by idle gaps) are removed now and then."""
    keys = [k for k in (conn.get("rl") or {}) if k != str(int(now.timestamp()))]
    if len(keys) > 4:
        connections.drop_rate_keys(conn["_id"], keys)


def sweep(now: datetime | None = None) -> dict[str, int]:
    """Periodic safety net: emergencies past their deadline (a schedule that never fired), and
    what TTL indexes remove on MongoDB only: connections past the 2-hour cap, stale presence,
    idle rooms (rate-limit windows are core.throttle's)."""
    now = now or clock.now()
    return {"emergenciesUnanswered": emergencies.expire_overdue(now),
            "connectionsPurged": connections.purge_expired_connections(now),
            "presencePurged": presence.purge_expired_presence(now),
            "roomsPurged": room_store.purge_idle_rooms(now)}


# ================================================================ REST use cases


def ice_servers(user: Mapping[str, Any]) -> dict[str, Any]:
    settings = get_settings()
    return ice.ice_servers(user["_id"], clock.now(), settings.stun_urls, settings.turn_urls, settings.turn_secret,
                           settings.turn_ttl_seconds)


def user_card(caller: Mapping[str, Any], target_id: str) -> dict[str, Any]:
    """Name, role and avatar of a user who shares an appointment or emergency with the caller
    (or anyone, for admins); everyone else is 404."""
    target_oid = object_id(target_id, "User")
    target = users.find_account(target_oid)
    if target is None:
        raise NotFound("User not found")
    me, role = caller["_id"], caller.get("role")
    pair = {role: me, target.get("role"): target_oid}
    related = (role == ADMIN or target_oid == me or
               (DOCTOR in pair and PATIENT in pair and len(pair) == 2 and
                (appointments.doctor_treats_patient(pair[DOCTOR], pair[PATIENT]) or
                 emergency_store.shares_emergency(pair[PATIENT], pair[DOCTOR]))))
    if not related:
        raise NotFound("User not found")
    return {"_id": target_oid, "name": target.get("name"), "role": target.get("role"),
            "avatar": target.get("avatar")}


def notify_doctor_joined(doctor: Mapping[str, Any], data: DoctorJoinedIn) -> dict[str, Any]:
    """The appointment's doctor tells the patient they are in the room: over the WebSocket when
    the patient is connected, else by SMS/e-mail with a link to the frontend's appointments page,
    whose Join Call button carries the room (no medical details, no room id). D-12 (the reference
    took a free-text room and any patient, a phishing vector) is fixed: the room must be an
    appointment of this doctor with this patient; the frontend's default room "general" means
    their confirmed appointment in progress or next."""
    now = clock.now()
    if data.appointmentId:
        appt = appointments.get(object_id(data.appointmentId, "Appointment"))
    elif data.roomId == GENERAL_ROOM:
        appt = appointments.next_of_pair(doctor["_id"], object_id(data.patientId, "Patient"), appointments.CONFIRMED,
                                         now)
    else:
        appt = appointments.find_by_room(str(data.roomId))
    if (appt is None or appt.get("doctor") != doctor["_id"]
            or (data.patientId and str(appt.get("patient")) != data.patientId)
            or (data.roomId not in (None, GENERAL_ROOM) and appt.get("roomId") != data.roomId)):
        raise NotFound("Appointment not found")
    if appt.get("status") != appointments.CONFIRMED:
        raise Conflict("Only a confirmed appointment has a call", code=Code.NOT_CONFIRMED)
    throttle.take(DOCTOR_JOINED, str(appt["_id"]), now)
    patient = users.find_account(appt["patient"]) or {}
    notice = {"type": "doctor-joined", "appointmentId": str(appt["_id"]), "roomId": appt.get("roomId"),
              "doctorName": doctor.get("name")}
    channel = "websocket"
    if push_to_user(appt["patient"], notice) == 0 and patient.get("contact"):
        channel = patient.get("contactType") or ("email" if "@" in str(patient["contact"]) else "phone")
        link = f"{get_settings().app_base_url.rstrip('/')}/appointments"
        notify.send(channel, str(patient["contact"]), "CureConnect: your doctor is waiting",
                    "CureConnect: your doctor has joined your video consultation. Join it from your "
                    f"appointments: {link}",
                    kind="doctor-joined", ref=appt["_id"])
    return {"patientName": patient.get("name"), "doctorName": doctor.get("name"), "appointmentId": appt["_id"],
            "roomId": appt.get("roomId"), "notificationTime": now, "channel": channel}
