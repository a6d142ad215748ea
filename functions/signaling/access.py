"""Who may enter which room, and when: pure rules over an appointment or emergency session.

A room id belongs either to an appointment (`appointments.roomId`) or to an emergency session
(`emergencies.roomId`). Only its two participants may enter (D-52: the reference let any socket
join or inject into any room); anyone else is told "forbidden", whether or not the room exists.

- Video (`join-room`): an appointment while it is `confirmed`, from `JOIN_EARLY_MINUTES` before
  its start until 30 minutes after its end; an emergency session once a doctor is assigned, for
  two hours after the acceptance.
- Chat (`chat-join`, history): the participants, with no time window: any appointment that was
  not cancelled, an emergency session once a doctor is assigned.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId

from functions.appointments import api as appointments
from functions.signaling.stores import emergencies

AFTER_END = timedelta(minutes=30)
EMERGENCY_CALL = timedelta(hours=2)
APPOINTMENT, EMERGENCY = "appointment", "emergency"


@dataclass(frozen=True)
class Room:
    room_id: str
    kind: str  # APPOINTMENT | EMERGENCY
    ref_id: ObjectId  # the appointment or emergency session
    patient_id: ObjectId
    doctor_id: ObjectId | None
    status: str
    opens: datetime | None  # video window
    closes: datetime | None

    def participant(self, user_id: Any) -> bool:
        return user_id is not None and user_id in (self.patient_id, self.doctor_id)


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def room_from_appointment(appt: Mapping[str, Any], early_minutes: int) -> Room:
    start, end = _aware(appt.get("start")), _aware(appt.get("end"))
    return Room(str(appt["roomId"]), APPOINTMENT, appt["_id"], appt["patient"], appt["doctor"],
                str(appt.get("status")), start - timedelta(minutes=early_minutes) if start else None,
                end + AFTER_END if end else None)


def room_from_emergency(session: Mapping[str, Any]) -> Room:
    accepted = _aware(session.get("acceptedAt"))
    return Room(str(session["roomId"]), EMERGENCY, session["_id"], session["patientId"], session.get("doctorId"),
                str(session.get("status")), accepted, accepted + EMERGENCY_CALL if accepted else None)


def video_allowed(room: Room | None, user_id: Any, now: datetime) -> bool:
    if room is None or not room.participant(user_id) or room.opens is None or room.closes is None:
        return False
    wanted = appointments.CONFIRMED if room.kind == APPOINTMENT else emergencies.ASSIGNED
    return room.status == wanted and room.opens <= now <= room.closes


def chat_allowed(room: Room | None, user_id: Any) -> bool:
    if room is None or not room.participant(user_id):
        return False
    return room.status != appointments.CANCELLED if room.kind == APPOINTMENT else room.status == emergencies.ASSIGNED


def find_room(room_id: str, early_minutes: int) -> Room | None:
    """The appointment or emergency session behind a room id (one read, two when it is an emergency)."""
    appt = appointments.find_by_room(room_id)
    if appt is not None:
        return room_from_appointment(appt, early_minutes)
    session = emergencies.find_emergency_by_room(room_id)
    return room_from_emergency(session) if session is not None else None
