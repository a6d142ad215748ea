"""HTTP routes of the signaling domain (thin handlers only). The WebSocket handlers are in
app.py (Chalice registers them on the app, not on blueprints) and delegate to `service`."""

from typing import Any

from chalice.app import Response

from functions.core.http import Blueprint, parse_body, parse_query, respond
from functions.core.security import ADMIN, DOCTOR, PATIENT, PHARMACIST, require_user
from functions.signaling import service
from functions.signaling.schemas import DoctorJoinedIn, MessagesQuery

bp = Blueprint(__name__)


def _headers() -> Any:
    request = bp.current_request
    return request.headers if request is not None else {}


@bp.route("/notify-doctor-joined", methods=["POST"])
def notify_doctor_joined() -> Response:
    doctor = require_user(_headers(), roles=(DOCTOR,))
    data = parse_body(bp.current_request, DoctorJoinedIn)
    result = service.notify_doctor_joined(doctor.user, data)
    return respond(message="The patient has been told you joined", data=result)


@bp.route("/user/{user_id}", methods=["GET"])
def user_card(user_id: str) -> Response:
    caller = require_user(_headers(), roles=(PATIENT, DOCTOR, PHARMACIST, ADMIN))
    return respond(user=service.user_card(caller.user, user_id))


@bp.route("/rtc/ice-servers", methods=["GET"])
def ice_servers() -> Response:
    user = require_user(_headers(), roles=(PATIENT, DOCTOR, ADMIN))
    return respond(**service.ice_servers(user.user))


@bp.route("/chat/{room_id}/messages", methods=["GET"])
def chat_messages(room_id: str) -> Response:
    user = require_user(_headers(), roles=(PATIENT, DOCTOR))
    query = parse_query(bp.current_request, MessagesQuery)
    messages, more = service.chat_history(user.user, room_id, query.before, query.limit)
    return respond(messages=messages, hasMore=more, nextBefore=messages[-1]["id"] if more else None)
