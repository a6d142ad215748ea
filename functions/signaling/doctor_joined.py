"""The doctor-joined notice (`POST /notify-doctor-joined`): the appointment's doctor tells the
patient they are in the call, over the WebSocket when the patient is connected, else by SMS or
e-mail; once a minute per appointment.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from functions.appointments import api as appointments
from functions.core import clock, notify, throttle, users
from functions.core.config import get_settings
from functions.core.db import object_id
from functions.core.errors import Code, Conflict, NotFound
from functions.core.security import Principal
from functions.core.throttle import Limit
from functions.signaling.delivery import push_to_user
from functions.signaling.schemas import GENERAL_ROOM, DoctorJoinedIn

DOCTOR_JOINED_EVERY = timedelta(minutes=1)  # per appointment
DOCTOR_JOINED = Limit("doctor-joined", 1, DOCTOR_JOINED_EVERY, message="The patient was told a moment ago")


def notify_doctor_joined(doctor: Principal, data: DoctorJoinedIn) -> dict[str, Any]:
    """The appointment's doctor tells the patient they are in the room: over the WebSocket when
    the patient is connected, else by SMS/e-mail with a link to the frontend's appointments page,
    whose Join Call button carries the room (no medical details, no room id). D-12 (the reference
    took a free-text room and any patient, a phishing vector) is fixed: the room must be an
    appointment of this doctor with this patient; the frontend's default room "general" means
    their confirmed appointment in progress or next."""
    now, doctor_name = clock.now(), doctor.user.get("name")
    if data.appointmentId:
        appt = appointments.get(object_id(data.appointmentId, "Appointment"))
    elif data.roomId == GENERAL_ROOM:
        appt = appointments.next_of_pair(doctor.id, object_id(data.patientId, "Patient"), appointments.CONFIRMED,
                                         now)
    else:
        appt = appointments.find_by_room(str(data.roomId))
    if (appt is None or appt.get("doctor") != doctor.id
            or (data.patientId and str(appt.get("patient")) != data.patientId)
            or (data.roomId not in (None, GENERAL_ROOM) and appt.get("roomId") != data.roomId)):
        raise NotFound.of("Appointment")
    if appt.get("status") != appointments.CONFIRMED:
        raise Conflict("Only a confirmed appointment has a call", code=Code.NOT_CONFIRMED)
    throttle.take(DOCTOR_JOINED, str(appt["_id"]), now)
    patient = users.find_account(appt["patient"]) or {}
    notice = {"type": "doctor-joined", "appointmentId": str(appt["_id"]), "roomId": appt.get("roomId"),
              "doctorName": doctor_name}
    channel = "websocket"
    if push_to_user(appt["patient"], notice) == 0 and patient.get("contact"):
        channel = patient.get("contactType") or ("email" if "@" in str(patient["contact"]) else "phone")
        link = f"{get_settings().app_base_url.rstrip('/')}/appointments"
        notify.send(channel, str(patient["contact"]), "CureConnect: your doctor is waiting",
                    "CureConnect: your doctor has joined your video consultation. Join it from your "
                    f"appointments: {link}",
                    kind="doctor-joined", ref=appt["_id"])
    return {"patientName": patient.get("name"), "doctorName": doctor_name, "appointmentId": appt["_id"],
            "roomId": appt.get("roomId"), "notificationTime": now, "channel": channel}
