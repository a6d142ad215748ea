"""Doctor presence: `doctorConnect` puts an approved doctor online on this connection (their
newest connection wins), and the doctors online now (whom an emergency alerts).

D-52: in the reference any client could register as any doctor and receive patients' names;
here only approved doctors go online, and only as themselves.
"""

from __future__ import annotations

from datetime import datetime

from bson import ObjectId

from functions.core import clock
from functions.core.errors import FrameCode
from functions.signaling.caller import Connection
from functions.signaling.delivery import FrameError, send
from functions.signaling.schemas import DoctorConnectIn, FrameIn
from functions.signaling.stores import connections, presence


def online_doctor_ids() -> list[ObjectId]:
    """Doctors online now (approved when they said `doctorConnect`)."""
    return [doc["_id"] for doc in presence.online_doctors(clock.now())]


def doctor_connect(conn: Connection, frame: FrameIn, now: datetime) -> None:
    assert isinstance(frame, DoctorConnectIn)
    if not conn.approved_doctor:
        raise FrameError(FrameCode.FORBIDDEN, "Only approved doctors can go online")
    if frame.doctorId is not None and frame.doctorId != str(conn.user_id):
        raise FrameError(FrameCode.FORBIDDEN, "You can only go online as yourself")
    connections.set_online(conn.id, True)
    presence.set_presence(conn.user_id, conn.id, now, conn.expires_at)
    send(conn.id, {"type": "doctor-online"})
