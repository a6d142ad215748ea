"""The signaling domain's HTTP routes (thin handlers only): the doctor-joined notice, a user's
card, ICE servers and chat history. The WebSocket handlers are in app.py (Chalice registers them
on the app, not on blueprints) and delegate to `connections`, `frames` and `emergencies`."""

from typing import Any

from chalice.app import Response

from functions.core.edge import Blueprint
from functions.core.envelope import respond
from functions.core.security import ADMIN, DOCTOR, PATIENT, PHARMACIST, require_user
from functions.core.validation import parse_body, parse_query
from functions.signaling import cards, chat, doctor_joined, ice
from functions.signaling.schemas import DoctorJoinedIn, IceServersQuery, MessagesQuery

bp = Blueprint(__name__)


def _headers() -> Any:
    request = bp.current_request
    return request.headers if request is not None else {}


@bp.route("/notify-doctor-joined", methods=["POST"])
def notify_doctor_joined() -> Response:
    doctor = require_user(_headers(), roles=(DOCTOR,))
    data = parse_body(bp.current_request, DoctorJoinedIn)
    result = doctor_joined.notify_doctor_joined(doctor, data)
    return respond(message="The patient has been told you joined", data=result)


@bp.route("/user/{user_id}", methods=["GET"])
def user_card(user_id: str) -> Response:
    caller = require_user(_headers(), roles=(PATIENT, DOCTOR, PHARMACIST, ADMIN))
    return respond(user=cards.user_card(caller, user_id))


@bp.route("/rtc/ice-servers", methods=["GET"])
def ice_servers() -> Response:
    user = require_user(_headers(), roles=(PATIENT, DOCTOR, ADMIN))
    query = parse_query(bp.current_request, IceServersQuery)
    return respond(**ice.servers_for(user.id, query.roomId))


@bp.route("/chat/{room_id}/messages", methods=["GET"])
def chat_messages(room_id: str) -> Response:
    user = require_user(_headers(), roles=(PATIENT, DOCTOR))
    query = parse_query(bp.current_request, MessagesQuery)
    messages, more = chat.chat_history(user, room_id, query.before, query.limit)
    return respond(messages=messages, hasMore=more, nextBefore=messages[-1]["id"] if more else None)
