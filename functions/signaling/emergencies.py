"""Emergency sessions: starting one (`emergencyRequest`, or another domain through the seam)
alerts the doctors online, `emergency-accept` assigns it to the first doctor, and the timeout (a
one-off schedule, with the sweeper as the safety net) marks it unanswered.

D-52: in the reference any client could flood emergency requests into one constant room. Here each
session gets its own unguessable room and the first accept wins by one conditional write.
Creation, acceptance and expiry are audited.

Issue 21 (alert floods: ten fresh accounts alerted every online doctor ten times in 8 s): only a
patient whose contact is verified (by code or link) may start one; its budgets are taken all or
none (`core.throttle.take_all`) before anything is written: one a minute per patient, one *open*
(pending) per patient (a window as long as the session's deadline, given back when a doctor
accepts it; it ends with the deadline otherwise: so a doctor is alerted at most once per patient
at a time), and, when the caller's address is known (a WebSocket's `$connect`, an analysis
request's), EMERGENCIES_PER_IP_PER_HOUR per address, plus EMERGENCIES_PER_MINUTE from everywhere.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from bson import ObjectId

from functions.core import audit, clock, metrics, throttle, users
from functions.core.config import get_settings
from functions.core.db import maybe_object_id
from functions.core.errors import Code, Forbidden, FrameCode, NotFound
from functions.core.metrics import Metric
from functions.core.observability import logger
from functions.core.security import PATIENT
from functions.core.throttle import Limit
from functions.signaling import timeouts
from functions.signaling.caller import Connection
from functions.signaling.delivery import FrameError, push_to_user, send
from functions.signaling.schemas import EmergencyAcceptIn, EmergencyIn, FrameIn
from functions.signaling.stores import emergencies, presence

EMERGENCY_EVERY = timedelta(minutes=1)  # per patient
EMERGENCY = Limit("emergency", 1, EMERGENCY_EVERY, Code.EMERGENCY_RATE_LIMITED, "One emergency request per minute")
_FLOOD = "Too many emergency requests right now; please call the emergency line"
SCHEDULER_EARLY = timedelta(seconds=5)  # a one-off schedule may fire a little early


def open_limit() -> Limit:
    """One pending emergency per patient: the window lasts as long as a session waits for a doctor."""
    return Limit("emergency-open", 1, timedelta(seconds=get_settings().emergency_timeout_seconds),
                 Code.EMERGENCY_OPEN, "Your emergency request is open: a doctor is being alerted")


def budgets(patient_id: ObjectId, source_ip: str | None) -> list[tuple[Limit, str]]:
    """What one emergency request spends (all or none): the patient's, its address's (when the
    caller has one: an HTTP or WebSocket client), the platform's."""
    settings = get_settings()
    claims = [(EMERGENCY, str(patient_id)), (open_limit(), str(patient_id))]
    if source_ip:
        claims.append((Limit("emergency-ip", settings.emergencies_per_ip_per_hour, timedelta(hours=1),
                             Code.EMERGENCY_RATE_LIMITED, _FLOOD), source_ip))
    claims.append((Limit("emergency-all", settings.emergencies_per_minute, timedelta(minutes=1),
                         Code.EMERGENCY_RATE_LIMITED, _FLOOD), "all"))
    return claims


def start_emergency(patient_id: ObjectId, note: str | None, source: str, *,
                    location: Mapping[str, Any] | None = None, source_ip: str | None = None) -> dict[str, Any]:
    """Create an emergency session (fresh unguessable room id) and alert every online doctor
    with `emergencyNotification`. Only a patient with a verified contact (403
    CONTACT_NOT_VERIFIED); within `budgets` (429, the database decides under concurrency).
    Returns `{sessionId, roomId}`."""
    now, settings = clock.now(), get_settings()
    patient = users.find_account(patient_id)
    if patient is None or patient.get("role") != PATIENT:
        raise NotFound.of("Patient")
    if not patient.get("contactVerified"):
        raise Forbidden("Verify your e-mail or phone number before asking for emergency help",
                        code=Code.CONTACT_NOT_VERIFIED)
    throttle.take_all(budgets(patient_id, source_ip), now)
    deadline = now + timedelta(seconds=settings.emergency_timeout_seconds)
    session: dict[str, Any] = {
        "_id": ObjectId(), "patientId": patient_id, "patientName": patient.get("name"), "note": note,
        "location": dict(location) if location else None, "source": source,
        "roomId": secrets.token_urlsafe(16), "status": emergencies.PENDING, "doctorId": None,
        "createdAt": now, "deadline": deadline,
    }
    try:
        emergencies.insert_emergency(session)
    except Exception:
        throttle.give_back(open_limit(), str(patient_id))  # nothing is open after all
        raise
    audit.record(patient, "create", "emergency", session["_id"], reason=source, subject_id=patient_id)
    timeouts.arm(session["_id"], deadline)
    alert = {"type": "emergencyNotification", "sessionId": str(session["_id"]),
             "patientName": session["patientName"], "roomId": session["roomId"]}
    alerted = sum(send(doc["connectionId"], alert) for doc in presence.online_doctors(now))
    logger.info("emergency started", extra={"sessionId": str(session["_id"]), "alerted": alerted, "source": source})
    metrics.count(Metric.EMERGENCY_RAISED)
    return {"sessionId": str(session["_id"]), "roomId": session["roomId"]}


def emergency_request(conn: Connection, frame: FrameIn, now: datetime) -> None:
    assert isinstance(frame, EmergencyIn)
    if conn.role != PATIENT:
        raise FrameError(FrameCode.FORBIDDEN, "Only patients can request emergency help")
    location = frame.location.model_dump() if frame.location else None
    created = start_emergency(conn.user_id, frame.note, "websocket", location=location, source_ip=conn.source_ip)
    send(conn.id, {"type": "emergency-created", **created,
                        "timeoutSeconds": get_settings().emergency_timeout_seconds})


def emergency_accept(conn: Connection, frame: FrameIn, now: datetime) -> None:
    """First accept wins (one conditional write); the others learn it was taken."""
    assert isinstance(frame, EmergencyAcceptIn)
    if not conn.approved_doctor:
        raise FrameError(FrameCode.FORBIDDEN, "Only approved doctors can accept emergencies")
    session_id, doctor_id = ObjectId(frame.sessionId), conn.user_id
    won = emergencies.claim_emergency(session_id, doctor_id, conn.name, now)
    if won is None:
        current = emergencies.get_emergency(session_id)
        if current is None:
            raise FrameError(FrameCode.NOT_FOUND, "No such emergency")
        kind = "emergency-taken" if current.get("status") == emergencies.ASSIGNED else "emergency-closed"
        send(conn.id, {"type": kind, "sessionId": frame.sessionId})
        return
    throttle.give_back(open_limit(), str(won["patientId"]))  # no longer open: the patient may ask again
    audit.record(conn.actor(), "accept", "emergency", session_id, subject_id=won["patientId"])
    metrics.count(Metric.EMERGENCY_ACCEPTED)
    timeouts.disarm(session_id)
    # The patient's note and location go to the assigned doctor only (the alert named the patient alone).
    send(conn.id, {"type": "emergency-assigned", "sessionId": frame.sessionId, "roomId": won["roomId"],
                       "patientName": won.get("patientName"), "note": won.get("note"),
                       "location": won.get("location")})
    push_to_user(won["patientId"], {"type": "doctor-joined", "sessionId": frame.sessionId,
                                    "roomId": won["roomId"], "doctorName": conn.name})
    for doc in presence.online_doctors(now):
        if doc["_id"] != doctor_id:
            send(doc["connectionId"], {"type": "emergency-taken", "sessionId": frame.sessionId})


def expire(session_id: ObjectId, now: datetime) -> bool:
    session = emergencies.expire_emergency(session_id, now)
    if session is None:
        return False  # (its open window ends with the deadline: nothing to give back)
    audit.record("scheduler", emergencies.UNANSWERED, "emergency", session_id, subject_id=session["patientId"])
    metrics.count(Metric.EMERGENCY_UNANSWERED)
    push_to_user(session["patientId"], {"type": "emergency-unanswered", "sessionId": str(session_id)})
    return True


def emergency_timeout(event: Mapping[str, Any]) -> dict[str, Any]:
    """The `emergency_timeout` Lambda, `{sessionId}` from the one-off schedule."""
    session_id = maybe_object_id(event.get("sessionId"))
    if session_id is None:
        return {"expired": False, "reason": "invalid input"}
    return {"expired": expire(session_id, clock.now() + SCHEDULER_EARLY)}


def expire_overdue(now: datetime) -> int:
    """Sessions past their deadline whose schedule never fired (the sweeper's part)."""
    return sum(expire(session_id, now) for session_id in emergencies.due_emergencies(now))
