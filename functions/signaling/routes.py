"""The signaling domain's HTTP routes (thin handlers only): the doctor-joined notice, a user's
card, ICE servers and chat history. The WebSocket handlers are in app.py (Chalice registers them
on the app, not on blueprints) and delegate to `connections`, `frames` and `emergencies`."""

from chalice.app import Response

from functions.core.edge import Blueprint
from functions.core.envelope import respond
from functions.core.errors import Code
from functions.core.openapi import describe
from functions.core.security import ADMIN, DOCTOR, PATIENT, PHARMACIST, require_user
from functions.core.validation import parse_body, parse_query
from functions.signaling import cards, chat, doctor_joined, ice
from functions.signaling.schemas import (
    ChatMessagesAnswer,
    DoctorJoinedAnswer,
    DoctorJoinedIn,
    IceServersAnswer,
    IceServersQuery,
    MessagesQuery,
    UserCardAnswer,
)

bp = Blueprint(__name__)
_headers = bp.request_headers


@bp.route("/notify-doctor-joined", methods=["POST"])
@describe(response=DoctorJoinedAnswer, errors=(Code.NOT_FOUND, Code.NOT_CONFIRMED))
def notify_doctor_joined() -> Response:
    """Tell the patient their doctor joined the call (WebSocket, else a message)."""
    doctor = require_user(_headers(), roles=(DOCTOR,))
    data = parse_body(bp.current_request, DoctorJoinedIn)
    result = doctor_joined.notify_doctor_joined(doctor, data)
    return respond(message="The patient has been told you joined", data=result)


@bp.route("/user/{user_id}", methods=["GET"])
@describe(response=UserCardAnswer, errors=(Code.NOT_FOUND,))
def user_card(user_id: str) -> Response:
    """The name and role of the other participant of a call."""
    caller = require_user(_headers(), roles=(PATIENT, DOCTOR, PHARMACIST, ADMIN))
    return respond(user=cards.user_card(caller, user_id))


@bp.route("/rtc/ice-servers", methods=["GET"])
@describe(response=IceServersAnswer, errors=(Code.NOT_FOUND,))
def ice_servers() -> Response:
    """STUN and TURN servers for a call (TURN for a participant of an open room)."""
    user = require_user(_headers(), roles=(PATIENT, DOCTOR, ADMIN))
    query = parse_query(bp.current_request, IceServersQuery)
    return respond(**ice.servers_for(user.id, query.roomId))


@bp.route("/chat/{room_id}/messages", methods=["GET"])
@describe(response=ChatMessagesAnswer, errors=(Code.NOT_FOUND,))
def chat_messages(room_id: str) -> Response:
    """A room's chat history, newest first, one page before a message id."""
    user = require_user(_headers(), roles=(PATIENT, DOCTOR))
    query = parse_query(bp.current_request, MessagesQuery)
    messages, more = chat.chat_history(user, room_id, query.before, query.limit)
    return respond(messages=messages, hasMore=more, nextBefore=messages[-1]["id"] if more else None)
