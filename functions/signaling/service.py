"""Rules of the signaling domain: pure Python, no Chalice import.

The WebSocket API's three Lambdas call `on_connect`, `on_message` and `on_disconnect` with the
raw API Gateway event. Frames are JSON `{action, ...}`; answers and pushes are JSON `{type, ...}`
sent through `sender` (the management API). The event names are the reference's Socket.IO ones.

Costs on the hot path: every frame first runs `store.touch_connection`, one `find_one_and_update`
by connection id that counts the frame for `WS_MAX_FRAMES_PER_SECOND` and returns the
connection's user, room and peer. A relayed offer/answer/ICE candidate therefore costs one
database round trip and one management-API post.

Seams for other domains: `start_emergency`, `push_to_user`, `online_doctor_ids`, `sweep`.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from bson import ObjectId
from pydantic import ValidationError

from functions.appointments import store as appointments_store
from functions.auth import store as auth_store
from functions.core import audit, clock, notify
from functions.core.config import get_settings
from functions.core.db import object_id
from functions.core.errors import AppError, Conflict, Forbidden, NotFound, RateLimited, Unauthorized
from functions.core.http import field_errors, iso_utc
from functions.core.observability import logger
from functions.core.security import ADMIN, DOCTOR, PATIENT, authenticate
from functions.signaling import access, ice, sender, store, timeouts
from functions.signaling.schemas import (
    FRAMES,
    DoctorConnectFrame,
    DoctorJoinedIn,
    EmergencyAcceptFrame,
    EmergencyFrame,
    Frame,
    IceFrame,
    MessageFrame,
    ReadFrame,
    RoomFrame,
)

MAX_FRAME_BYTES = 32 * 1024  # API Gateway's WebSocket frame size
EMERGENCY_EVERY = timedelta(minutes=1)  # per patient
DOCTOR_JOINED_EVERY = timedelta(minutes=1)  # per appointment
SCHEDULER_EARLY = timedelta(seconds=5)  # a one-off schedule may fire a little early
OK = {"statusCode": 200}


class FrameError(Exception):
    """A frame that is refused: answered `{type: "error", code, message}` on the same connection,
    which stays usable."""

    def __init__(self, code: str, message: str, errors: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.errors = code, message, errors or []


# ================================================================ sending


def _send(cid: str, message: dict[str, Any]) -> bool:
    """Post a frame; a connection that is gone (410) is removed with its memberships, not retried."""
    delivery = sender.send(cid, message)
    if delivery is sender.Delivery.GONE:
        drop_connection(cid)
    return delivery is sender.Delivery.SENT


def push_to_user(user_id: ObjectId, message: dict[str, Any]) -> int:
    """Send a frame to each live connection of that user; returns how many got it."""
    return sum(_send(cid, message) for cid in store.live_connection_ids(user_id, clock.now()))


def online_doctor_ids() -> list[ObjectId]:
    """Doctors online now (approved when they said `doctorConnect`)."""
    return [doc["_id"] for doc in store.online_doctors(clock.now())]


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
    store.insert_connection({
        "_id": str(context["connectionId"]),
        "userId": principal.id,
        "role": principal.role,
        "name": principal.user.get("name"),
        "approved": principal.approved,
        "connectedAt": now,
        "expiresAt": now + timedelta(seconds=get_settings().ws_connection_ttl_seconds),
        "room": None, "peer": None, "peerUserId": None, "chat": {}, "online": False, "rl": {},
    })
    return OK


def on_disconnect(event: Mapping[str, Any]) -> dict[str, Any]:
    context = _context(event)
    drop_connection(str(context.get("connectionId")))
    return OK


def drop_connection(cid: str) -> None:
    """Remove a connection and its memberships; a peer still in its room gets `peer-left`.
    Runs once per connection (the delete returns the document to one caller only)."""
    conn = store.delete_connection(cid)
    if conn is None:
        return
    user_id = conn["userId"]
    if conn.get("room"):
        _vacate(conn, conn["room"])
    for room_id in conn.get("chat") or {}:
        store.remove_chat_member(room_id, user_id, cid)
    if conn.get("role") == DOCTOR:
        store.clear_presence(user_id, cid)


def _vacate(conn: Mapping[str, Any], room_id: str) -> None:
    cid, peer = conn["_id"], conn.get("peer")
    if store.remove_member(room_id, conn["userId"], cid) and peer:
        store.clear_peer(peer, cid)
        _send(peer, {"type": "peer-left", "roomId": room_id, "peer": str(conn["userId"])})


# ================================================================ $default: every frame


def _reply_error(cid: str, code: str, message: str, errors: list[dict[str, str]] | None = None,
                 action: str | None = None) -> None:
    frame: dict[str, Any] = {"type": "error", "code": code, "message": message}
    if errors:
        frame["errors"] = errors
    if action:
        frame["action"] = action
    _send(cid, frame)


def on_message(event: Mapping[str, Any]) -> dict[str, Any]:
    context = _context(event)
    cid = str(context.get("connectionId"))
    body = event.get("body")
    raw = body if isinstance(body, str) and not event.get("isBase64Encoded") else None
    if raw is not None and len(raw.encode()) > MAX_FRAME_BYTES:
        _reply_error(cid, "too_large", f"Frames are limited to {MAX_FRAME_BYTES // 1024} KB")
        return OK
    now = clock.now()
    conn = store.touch_connection(cid, now, get_settings().ws_max_frames_per_second)
    if conn is None:
        _explain_refused(cid, now)
        return OK
    _tidy_rate_keys(conn, now)
    action = None
    try:
        data = json.loads(raw) if raw is not None else None
        if not isinstance(data, dict):
            raise FrameError("bad_request", "A frame is a JSON object with an action")
        action = data.get("action")
        model = FRAMES.get(action) if isinstance(action, str) else None
        if model is None:
            raise FrameError("unknown_action", "Unknown action")
        frame = model.model_validate(data)
        _HANDLERS[str(action)](conn, frame, now)
    except FrameError as exc:
        _reply_error(cid, exc.code, exc.message, exc.errors, action if isinstance(action, str) else None)
    except ValueError as exc:  # json.JSONDecodeError and pydantic's ValidationError
        if isinstance(exc, ValidationError):
            _reply_error(cid, "invalid", "Invalid fields", field_errors(exc), str(action))
        else:
            _reply_error(cid, "bad_request", "Malformed JSON")
    except AppError as exc:
        _reply_error(cid, "rate_limited" if exc.status == 429 else exc.code.lower(), exc.message,
                     action=str(action))
    return OK


def _explain_refused(cid: str, now: datetime) -> None:
    """The touch matched nothing: a connection over its frame rate is told so; an unknown or
    expired one (a lost `$connect` or past the 2-hour cap) is closed."""
    conn = store.get_connection(cid)
    if conn is not None and conn["expiresAt"] > now:
        _reply_error(cid, "rate_limited", "Too many frames; slow down")
        return
    if conn is not None:
        drop_connection(cid)
    sender.close(cid)


def _tidy_rate_keys(conn: Mapping[str, Any], now: datetime) -> None:
    """Counters of seconds long past (left by idle gaps) are removed now and then."""
    keys = [k for k in (conn.get("rl") or {}) if k != str(int(now.timestamp()))]
    if len(keys) > 4:
        store.drop_rate_keys(conn["_id"], keys)


# ================================================================ video rooms


def _room_or_forbidden(room_id: str, user_id: ObjectId, now: datetime, video: bool) -> access.Room:
    room = access.find_room(room_id, get_settings().join_early_minutes)
    allowed = access.video_allowed(room, user_id, now) if video else access.chat_allowed(room, user_id)
    if room is None or not allowed:
        raise FrameError("forbidden", "You cannot join this room now")
    return room


def _join_room(conn: dict[str, Any], frame: Frame, now: datetime) -> None:
    """Pairing order: the connection records the room first, then the room records the member,
    then whoever finds the other member pairs both connections. Of two simultaneous joins
    the second room write sees the first member, so exactly one of them pairs."""
    assert isinstance(frame, RoomFrame)
    cid, user_id, room_id = conn["_id"], conn["userId"], frame.roomId
    room = _room_or_forbidden(room_id, user_id, now, video=True)
    if conn.get("room") and conn["room"] != room_id:
        _vacate(conn, conn["room"])
    store.enter_room(cid, room_id)
    before = store.replace_member(room_id, user_id, cid, now)
    if before is None:
        try:
            before = store.add_member(room_id, room.kind, user_id, cid, now) or {}
        except store.RoomFull:
            store.leave_room(cid, room_id)
            _send(cid, {"type": "room-full", "roomId": room_id})
            return
    members = dict(before.get("members") or {})
    previous = members.pop(str(user_id), None)
    if previous and previous != cid:  # this participant's older connection gives way
        store.leave_room(previous, room_id)
    _send(cid, {"type": "joined", "roomId": room_id, "waiting": not members})
    for other_user, other_cid in members.items():
        store.set_peer(cid, room_id, other_cid, ObjectId(other_user))
        store.set_peer(other_cid, room_id, cid, user_id)
        _send(other_cid, {"type": "ready", "roomId": room_id, "peer": str(user_id), "initiator": False})
        _send(cid, {"type": "ready", "roomId": room_id, "peer": other_user, "initiator": True})


def _leave_room(conn: dict[str, Any], frame: Frame, now: datetime) -> None:
    assert isinstance(frame, RoomFrame)
    if conn.get("room") != frame.roomId:
        raise FrameError("not_in_room", "You are not in this room")
    store.leave_room(conn["_id"], frame.roomId)
    _vacate(conn, frame.roomId)
    _send(conn["_id"], {"type": "left", "roomId": frame.roomId})


def _relay(conn: dict[str, Any], frame: Frame, now: datetime) -> None:
    """offer / answer / ice-candidate: only to the other member of the sender's room."""
    assert isinstance(frame, RoomFrame)
    if conn.get("room") != frame.roomId:
        raise FrameError("not_in_room", "Join the room first")
    peer = conn.get("peer")
    if not peer:
        raise FrameError("no_peer", "The other participant is not in the room")
    payload: dict[str, Any] = {"type": frame.action, "roomId": frame.roomId, "from": str(conn["userId"])}
    if isinstance(frame, IceFrame):
        payload["candidate"] = frame.candidate
    else:
        key = frame.action  # "offer" | "answer"
        payload[key] = getattr(frame, key)
    _send(peer, payload)


def _ping(conn: dict[str, Any], frame: Frame, now: datetime) -> None:
    """Keep-alive within API Gateway's 10-minute idle cut."""
    _send(conn["_id"], {"type": "pong"})


# ================================================================ doctor presence and emergencies


def _doctor_connect(conn: dict[str, Any], frame: Frame, now: datetime) -> None:
    assert isinstance(frame, DoctorConnectFrame)
    if conn.get("role") != DOCTOR or not conn.get("approved"):
        raise FrameError("forbidden", "Only approved doctors can go online")
    if frame.doctorId is not None and frame.doctorId != str(conn["userId"]):
        raise FrameError("forbidden", "You can only go online as yourself")
    store.set_online(conn["_id"], True)
    store.set_presence(conn["userId"], conn["_id"], now, conn["expiresAt"])
    _send(conn["_id"], {"type": "doctor-online"})


def start_emergency(patient_id: ObjectId, note: str | None, source: str, *,
                    location: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Create an emergency session (fresh unguessable room id) and alert every online doctor
    with `emergencyNotification`. One per patient per minute (a claim document decides, so
    concurrent requests cannot both pass). Returns `{sessionId, roomId}`."""
    now, settings = clock.now(), get_settings()
    patient = auth_store.find_account(patient_id)
    if patient is None or patient.get("role") != PATIENT:
        raise NotFound("Patient not found")
    if not store.take_slot(f"emergency:{patient_id}", now, EMERGENCY_EVERY):
        raise RateLimited("One emergency request per minute", retry_after=int(EMERGENCY_EVERY.total_seconds()),
                          code="EMERGENCY_RATE_LIMITED")
    deadline = now + timedelta(seconds=settings.emergency_timeout_seconds)
    session: dict[str, Any] = {
        "_id": ObjectId(), "patientId": patient_id, "patientName": patient.get("name"), "note": note,
        "location": dict(location) if location else None, "source": source,
        "roomId": secrets.token_urlsafe(16), "status": "pending", "doctorId": None,
        "createdAt": now, "deadline": deadline,
    }
    store.insert_emergency(session)
    audit.record(patient, "create", "emergency", session["_id"], reason=source, subject_id=patient_id)
    timeouts.arm(session["_id"], deadline)
    alert = {"type": "emergencyNotification", "sessionId": str(session["_id"]),
             "patientName": session["patientName"], "roomId": session["roomId"]}
    alerted = sum(_send(doc["connectionId"], alert) for doc in store.online_doctors(now))
    logger.info("emergency started", extra={"sessionId": str(session["_id"]), "alerted": alerted, "source": source})
    return {"sessionId": str(session["_id"]), "roomId": session["roomId"]}


def _emergency_request(conn: dict[str, Any], frame: Frame, now: datetime) -> None:
    assert isinstance(frame, EmergencyFrame)
    if conn.get("role") != PATIENT:
        raise FrameError("forbidden", "Only patients can request emergency help")
    location = frame.location.model_dump() if frame.location else None
    created = start_emergency(conn["userId"], frame.note, "websocket", location=location)
    _send(conn["_id"], {"type": "emergency-created", **created,
                        "timeoutSeconds": get_settings().emergency_timeout_seconds})


def _emergency_accept(conn: dict[str, Any], frame: Frame, now: datetime) -> None:
    """First accept wins (one conditional write); the others learn it was taken."""
    assert isinstance(frame, EmergencyAcceptFrame)
    if conn.get("role") != DOCTOR or not conn.get("approved"):
        raise FrameError("forbidden", "Only approved doctors can accept emergencies")
    session_id, doctor_id = ObjectId(frame.sessionId), conn["userId"]
    won = store.claim_emergency(session_id, doctor_id, conn.get("name"), now)
    if won is None:
        current = store.get_emergency(session_id)
        if current is None:
            raise FrameError("not_found", "No such emergency")
        kind = "emergency-taken" if current.get("status") == "assigned" else "emergency-closed"
        _send(conn["_id"], {"type": kind, "sessionId": frame.sessionId})
        return
    doctor = {"_id": doctor_id, "role": DOCTOR, "name": conn.get("name")}
    audit.record(doctor, "accept", "emergency", session_id, subject_id=won["patientId"])
    timeouts.disarm(session_id)
    _send(conn["_id"], {"type": "emergency-assigned", "sessionId": frame.sessionId, "roomId": won["roomId"],
                        "patientName": won.get("patientName")})
    push_to_user(won["patientId"], {"type": "doctor-joined", "sessionId": frame.sessionId,
                                    "roomId": won["roomId"], "doctorName": conn.get("name")})
    for doc in store.online_doctors(now):
        if doc["_id"] != doctor_id:
            _send(doc["connectionId"], {"type": "emergency-taken", "sessionId": frame.sessionId})


def _expire(session_id: ObjectId, now: datetime) -> bool:
    session = store.expire_emergency(session_id, now)
    if session is None:
        return False
    audit.record("scheduler", "unanswered", "emergency", session_id, subject_id=session["patientId"])
    push_to_user(session["patientId"], {"type": "emergency-unanswered", "sessionId": str(session_id)})
    return True


def emergency_timeout(event: Mapping[str, Any]) -> dict[str, Any]:
    """The `emergency_timeout` Lambda, `{sessionId}` from the one-off schedule."""
    session_id = store_id(event.get("sessionId"))
    if session_id is None:
        return {"expired": False, "reason": "invalid input"}
    return {"expired": _expire(session_id, clock.now() + SCHEDULER_EARLY)}


def store_id(value: Any) -> ObjectId | None:
    try:
        return object_id(value)
    except NotFound:
        return None


def sweep(now: datetime | None = None) -> dict[str, int]:
    """Periodic safety net: emergencies past their deadline (a schedule that never fired) and
    connections past the 2-hour cap (TTL does that on MongoDB only)."""
    now = now or clock.now()
    unanswered = sum(_expire(sid, now) for sid in store.due_emergencies(now))
    return {"emergenciesUnanswered": unanswered, "connectionsPurged": store.purge_expired_connections(now),
            "presencePurged": store.purge_expired_presence(now)}


# ================================================================ chat


def _in_chat(conn: Mapping[str, Any], room_id: str) -> None:
    if room_id not in (conn.get("chat") or {}):
        raise FrameError("not_in_room", "Join the chat first (chat-join)")


def _chat_join(conn: dict[str, Any], frame: Frame, now: datetime) -> None:
    assert isinstance(frame, RoomFrame)
    room = _room_or_forbidden(frame.roomId, conn["userId"], now, video=False)
    store.set_chat(conn["_id"], frame.roomId, True)
    store.set_chat_member(frame.roomId, room.kind, conn["userId"], conn["_id"], now)
    _send(conn["_id"], {"type": "chat-joined", "roomId": frame.roomId})


def message_to_api(doc: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": str(doc["_id"]), "roomId": doc["roomId"], "text": doc["text"], "sender": str(doc["senderId"]),
            "sentAt": iso_utc(doc["sentAt"]), "readAt": iso_utc(doc["readAt"]) if doc.get("readAt") else None}


def _chat_members(room_id: str) -> dict[str, str]:
    return dict((store.get_room(room_id) or {}).get("chat") or {})


def _user_message(conn: dict[str, Any], frame: Frame, now: datetime) -> None:
    """Stored first, then sent to the room's connected members (the sender's echo is its ack)."""
    assert isinstance(frame, MessageFrame)
    _in_chat(conn, frame.roomId)
    doc = {"_id": ObjectId(), "roomId": frame.roomId, "senderId": conn["userId"], "text": frame.text,
           "sentAt": now, "readAt": None}
    store.insert_message(doc)
    out = {"type": "message", **message_to_api(doc), "senderName": conn.get("name")}
    for cid in {*_chat_members(frame.roomId).values(), conn["_id"]}:
        _send(cid, out)


def _typing(conn: dict[str, Any], frame: Frame, now: datetime) -> None:
    assert isinstance(frame, RoomFrame)
    _in_chat(conn, frame.roomId)
    for user, cid in _chat_members(frame.roomId).items():
        if user != str(conn["userId"]):
            _send(cid, {"type": "typing", "roomId": frame.roomId, "from": str(conn["userId"])})


def _message_read(conn: dict[str, Any], frame: Frame, now: datetime) -> None:
    assert isinstance(frame, ReadFrame)
    doc = store.mark_read(ObjectId(frame.id), list(conn.get("chat") or {}), conn["userId"], now)
    if doc is None:
        raise FrameError("not_found", "No unread message of the other participant with this id")
    push_to_user(doc["senderId"], {"type": "message-read", "id": frame.id, "roomId": doc["roomId"],
                                   "readAt": iso_utc(now)})


_HANDLERS: dict[str, Callable[[dict[str, Any], Any, datetime], None]] = {
    "ping": _ping,
    "join-room": _join_room,
    "leave-room": _leave_room,
    "offer": _relay,
    "answer": _relay,
    "ice-candidate": _relay,
    "doctorConnect": _doctor_connect,
    "emergencyRequest": _emergency_request,
    "emergency-accept": _emergency_accept,
    "chat-join": _chat_join,
    "user-message": _user_message,
    "typing": _typing,
    "message-read": _message_read,
}
assert set(_HANDLERS) == set(FRAMES)


# ================================================================ REST use cases


def chat_history(user: Mapping[str, Any], room_id: str, before: str | None, limit: int
                 ) -> tuple[list[dict[str, Any]], bool]:
    """Participants only (anyone else 404), newest first, `limit` per page."""
    room = access.find_room(room_id, get_settings().join_early_minutes)
    if not access.chat_allowed(room, user["_id"]):
        raise NotFound("Chat not found")
    cursor = object_id(before, "Message") if before else None
    items = store.page_messages(room_id, cursor, limit + 1)
    return [message_to_api(doc) for doc in items[:limit]], len(items) > limit


def ice_servers(user: Mapping[str, Any]) -> dict[str, Any]:
    settings = get_settings()
    return ice.ice_servers(user["_id"], clock.now(), settings.stun_urls, settings.turn_urls, settings.turn_secret,
                           settings.turn_ttl_seconds)


def user_card(caller: Mapping[str, Any], target_id: str) -> dict[str, Any]:
    """Name, role and avatar of a user who shares an appointment or emergency with the caller
    (or anyone, for admins); everyone else is 404."""
    from functions.core.care import doctor_treats_patient

    target_oid = object_id(target_id, "User")
    target = auth_store.find_account(target_oid)
    if target is None:
        raise NotFound("User not found")
    me, role = caller["_id"], caller.get("role")
    pair = {role: me, target.get("role"): target_oid}
    related = (role == ADMIN or target_oid == me or
               (DOCTOR in pair and PATIENT in pair and len(pair) == 2 and
                (doctor_treats_patient(pair[DOCTOR], pair[PATIENT]) or
                 store.shares_emergency(pair[PATIENT], pair[DOCTOR]))))
    if not related:
        raise NotFound("User not found")
    return {"_id": target_oid, "name": target.get("name"), "role": target.get("role"),
            "avatar": target.get("avatar")}


def notify_doctor_joined(doctor: Mapping[str, Any], data: DoctorJoinedIn) -> dict[str, Any]:
    """The appointment's doctor tells the patient they are in the room: over the WebSocket when
    the patient is connected, else by SMS/e-mail with a link to the call page (no medical
    details, no room id). D-12 (the reference took a free-text room and any patient, a
    phishing vector) is fixed: the room must be an appointment of this doctor with this patient."""
    if data.appointmentId:
        appt = appointments_store.get(object_id(data.appointmentId, "Appointment"))
    else:
        appt = appointments_store.find_by_room(str(data.roomId))
    if (appt is None or appt.get("doctor") != doctor["_id"]
            or (data.patientId and str(appt.get("patient")) != data.patientId)
            or (data.roomId and appt.get("roomId") != data.roomId)):
        raise NotFound("Appointment not found")
    if appt.get("status") != "confirmed":
        raise Conflict("Only a confirmed appointment has a call", code="NOT_CONFIRMED")
    now = clock.now()
    if not store.take_slot(f"doctor-joined:{appt['_id']}", now, DOCTOR_JOINED_EVERY):
        raise RateLimited("The patient was told a moment ago", retry_after=int(DOCTOR_JOINED_EVERY.total_seconds()))
    patient = auth_store.find_account(appt["patient"]) or {}
    notice = {"type": "doctor-joined", "appointmentId": str(appt["_id"]), "roomId": appt.get("roomId"),
              "doctorName": doctor.get("name")}
    channel = "websocket"
    if push_to_user(appt["patient"], notice) == 0 and patient.get("contact"):
        channel = patient.get("contactType") or ("email" if "@" in str(patient["contact"]) else "phone")
        link = f"{get_settings().app_base_url.rstrip('/')}/call?appointment={appt['_id']}"
        notify.send(channel, str(patient["contact"]), "CureConnect: your doctor is waiting",
                    f"CureConnect: your doctor has joined your video consultation. Join here: {link}",
                    kind="doctor-joined", ref=appt["_id"])
    return {"patientName": patient.get("name"), "doctorName": doctor.get("name"), "appointmentId": appt["_id"],
            "roomId": appt.get("roomId"), "notificationTime": now, "channel": channel}
