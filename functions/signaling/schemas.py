"""Pydantic models for WebSocket frames (client -> server, by `action`) and the REST bodies.

Input models end in `In` (frames and REST bodies alike). Every frame is a JSON object with an
`action`; unknown fields are refused like any write. Room ids are the appointments' and emergency
sessions' `roomId`s: URL-safe tokens.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from functions.core.errors import FrameCode
from functions.core.schemas import Answer, Id, OutModel, PageQuery, Timestamp, WriteModel

RoomId = Annotated[str, Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
ObjectIdText = Annotated[str, Field(min_length=24, max_length=24, pattern=r"^[0-9a-fA-F]{24}$")]
# An SDP or ICE candidate as the browser produced it; relayed untouched (the frame size cap bounds it).
Blob = dict[str, Any]


class FrameIn(WriteModel):
    action: str


class RoomIn(FrameIn):
    roomId: RoomId


class OfferIn(RoomIn):
    offer: Blob


class AnswerIn(RoomIn):
    answer: Blob


class IceIn(RoomIn):
    candidate: Blob | None = None  # null = end of candidates


class DoctorConnectIn(FrameIn):
    doctorId: ObjectIdText | None = None  # the old client sent its id; it must be the caller's own


class LocationIn(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)  # built on first validation, not at import

    lat: Annotated[float, Field(ge=-90, le=90)]
    lng: Annotated[float, Field(ge=-180, le=180)]
    accuracy: Annotated[float, Field(ge=0, le=100_000)] | None = None


class EmergencyIn(FrameIn):
    note: Annotated[str, Field(max_length=500)] | None = None
    location: LocationIn | None = None


class EmergencyAcceptIn(FrameIn):
    sessionId: ObjectIdText


class MessageIn(RoomIn):
    text: Annotated[str, Field(min_length=1, max_length=2000)]


class ReadIn(FrameIn):
    id: ObjectIdText


FRAMES: dict[str, type[FrameIn]] = {
    "ping": FrameIn,
    "join-room": RoomIn,
    "leave-room": RoomIn,
    "offer": OfferIn,
    "answer": AnswerIn,
    "ice-candidate": IceIn,
    "doctorConnect": DoctorConnectIn,
    "emergencyRequest": EmergencyIn,
    "emergency-accept": EmergencyAcceptIn,
    "chat-join": RoomIn,
    "user-message": MessageIn,
    "typing": RoomIn,
    "message-read": ReadIn,
}


# ---------------------------------------------------------------- REST


GENERAL_ROOM = "general"  # the existing frontend's call page, when its URL names no room


class DoctorJoinedIn(WriteModel):
    """`{appointmentId}`, or the existing frontend's `{patientId, roomId}`; its call page sends
    `roomId: "general"` when it was opened without a room (then the pair's current or next
    confirmed appointment is meant)."""

    appointmentId: ObjectIdText | None = None
    patientId: ObjectIdText | None = None
    roomId: RoomId | Literal["general"] | None = None

    @model_validator(mode="after")
    def _one_way(self) -> DoctorJoinedIn:
        if self.appointmentId is None and (self.patientId is None or self.roomId is None):
            raise ValueError("Give appointmentId, or patientId and roomId")
        return self


class MessagesQuery(PageQuery):
    before: ObjectIdText | None = None
    limit: Annotated[int, Field(ge=1, le=100)] = 50


class IceServersQuery(BaseModel):
    """`?roomId=`: the call the servers are for; TURN credentials only for a participant of a
    room that is open now (`ice.servers_for`)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, defer_build=True)

    roomId: RoomId | None = None


# ---------------------------------------------------------------- REST answers (`*Out` models)


class DoctorJoinedOut(OutModel):
    patientName: str | None
    doctorName: str | None
    appointmentId: Id
    roomId: str | None
    notificationTime: Timestamp
    channel: str = Field(description="How the patient was told: `websocket`, or `email`/`phone` when not connected")


class DoctorJoinedAnswer(Answer):
    message: str
    data: DoctorJoinedOut


class CardAvatarOut(BaseModel):
    model_config = ConfigDict(extra="allow", defer_build=True)

    public_id: str | None = None
    url: str | None = None


class UserCardOut(OutModel):
    """Who is on the other side of a call: name and role only."""

    id: Id = Field(alias="_id")
    name: str | None
    role: str | None
    avatar: CardAvatarOut | None


class UserCardAnswer(Answer):
    user: UserCardOut


class IceServerOut(OutModel):
    """An RTCIceServer: STUN urls, or TURN urls with a time-limited username and credential."""

    urls: list[str]
    username: str | None = None
    credential: str | None = None


class IceServersAnswer(Answer):
    iceServers: list[IceServerOut]
    ttl: int = Field(description="Seconds the TURN credentials stay valid")


class ChatMessageOut(OutModel):
    id: Id
    roomId: str
    text: str
    sender: Id
    sentAt: str = Field(description="ISO 8601, UTC (`Z`)")
    readAt: str | None


class ChatMessagesAnswer(Answer):
    """Newest first; `nextBefore` is the `before` of the next (older) page when `hasMore`."""

    messages: list[ChatMessageOut]
    hasMore: bool
    nextBefore: Id | None


# ---------------------------------------------------------------- WebSocket frames the server sends (`{type, ...}`)
# The AsyncAPI document (`signaling.asyncapi`) is built from these and from FRAMES.


class FrameOut(OutModel):
    """A frame the server sends: a JSON object with a `type`."""


class PongOut(FrameOut):
    type: Literal["pong"]


class JoinedOut(FrameOut):
    """You are in the room; `waiting` until the other participant joins."""

    type: Literal["joined"]
    roomId: str
    waiting: bool


class ReadyOut(FrameOut):
    """Both participants are in the room: the `initiator` sends the offer."""

    type: Literal["ready"]
    roomId: str
    peer: Id
    initiator: bool


class RoomFullOut(FrameOut):
    type: Literal["room-full"]
    roomId: str


class LeftOut(FrameOut):
    type: Literal["left"]
    roomId: str


class PeerLeftOut(FrameOut):
    type: Literal["peer-left"]
    roomId: str
    peer: Id


class FromPeerOut(FrameOut):
    """A frame from the other participant of a room: `from` is who sent it. Each kind narrows `type`
    (a field a subclass declares again keeps its place, so `type` stays first)."""

    model_config = ConfigDict(populate_by_name=True)
    type: str
    roomId: str
    from_: Id = Field(alias="from")


class OfferOut(FromPeerOut):
    """The other participant's offer, relayed untouched."""

    type: Literal["offer"]
    offer: Blob


class AnswerOut(FromPeerOut):
    type: Literal["answer"]
    answer: Blob


class IceCandidateOut(FromPeerOut):
    """The other participant's ICE candidate (null: no more candidates)."""

    type: Literal["ice-candidate"]
    candidate: Blob | None


class ChatJoinedOut(FrameOut):
    type: Literal["chat-joined"]
    roomId: str


class MessageOut(FrameOut):
    """A chat message (to both participants): the history's fields and the sender's name."""

    type: Literal["message"]
    id: Id
    roomId: str
    text: str
    sender: Id
    sentAt: str
    readAt: str | None
    senderName: str | None


class TypingOut(FromPeerOut):
    type: Literal["typing"]


class MessageReadOut(FrameOut):
    type: Literal["message-read"]
    id: Id
    roomId: str
    readAt: str


class DoctorOnlineOut(FrameOut):
    type: Literal["doctor-online"]


class DoctorJoinedFrameOut(FrameOut):
    """To the patient: the doctor is in the call (`appointmentId` for an appointment, `sessionId`
    for an emergency)."""

    type: Literal["doctor-joined"]
    roomId: str | None
    doctorName: str | None
    appointmentId: Id | None = None
    sessionId: Id | None = None


class EmergencyNotificationOut(FrameOut):
    """To every online doctor: a patient asks for emergency help."""

    type: Literal["emergencyNotification"]
    sessionId: Id
    patientName: str | None
    roomId: str


class EmergencyCreatedOut(FrameOut):
    type: Literal["emergency-created"]
    sessionId: Id
    roomId: str
    timeoutSeconds: int


class LocationOut(OutModel):
    lat: float
    lng: float
    accuracy: float | None = None


class EmergencyAssignedOut(FrameOut):
    """To the doctor who accepted: the patient's note and location (no one else sees them)."""

    type: Literal["emergency-assigned"]
    sessionId: Id
    roomId: str
    patientName: str | None
    note: str | None
    location: LocationOut | None


class EmergencyTakenOut(FrameOut):
    type: Literal["emergency-taken"]
    sessionId: Id


class EmergencyClosedOut(FrameOut):
    """To a doctor accepting an emergency that ended meanwhile (unanswered or closed)."""

    type: Literal["emergency-closed"]
    sessionId: Id


class EmergencyUnansweredOut(FrameOut):
    type: Literal["emergency-unanswered"]
    sessionId: Id


class IvrEmergencyOut(FrameOut):
    """To every online doctor: a call to the emergency line, from an unverified caller ID."""

    type: Literal["ivrEmergency"]
    callSid: str
    caller: str | None
    callerVerified: bool
    language: str
    at: str


class WaitlistOfferOut(FrameOut):
    """To a patient on a doctor's waitlist: a freed or newly opened slot (`day`, `time`, the
    doctor's local ones) is held for them until `expiresAt`; they answer with
    `PUT /appointment/waitlist/{entryId}/accept` or `/decline`. Sent instead of the SMS or e-mail
    while they are online."""

    type: Literal["waitlist-offer"]
    entryId: Id
    appointmentId: Id
    doctor: Id
    doctorName: str | None
    day: str
    time: str
    expiresAt: Timestamp


class FieldErrorOut(OutModel):
    field: str
    message: str


# Error frame codes besides FrameCode's: a use case's error met while a frame is handled answers its
# `Code` in lower case (`FrameCode.of`); those that do not map onto a FrameCode already.
UseCaseFrameCode = Literal["contact_not_verified"]


class ErrorFrameOut(FrameOut):
    """A refused frame (or a closing connection, `replaced`): `code` is one of `FrameCode`, or a
    use case's code in lower case (`contact_not_verified`)."""

    type: Literal["error"]
    code: FrameCode | UseCaseFrameCode
    message: str
    errors: list[FieldErrorOut] | None = None
    action: str | None = None


# What each action may answer to its sender (besides `error`); the others' frames in `PUSHES`.
ANSWERS: dict[str, tuple[type[FrameOut], ...]] = {
    "ping": (PongOut,),
    "join-room": (JoinedOut, ReadyOut, RoomFullOut),
    "leave-room": (LeftOut,),
    "offer": (),
    "answer": (),
    "ice-candidate": (),
    "doctorConnect": (DoctorOnlineOut,),
    "emergencyRequest": (EmergencyCreatedOut,),
    "emergency-accept": (EmergencyAssignedOut, EmergencyTakenOut, EmergencyClosedOut),
    "chat-join": (ChatJoinedOut,),
    "user-message": (MessageOut,),
    "typing": (),
    "message-read": (),
}
# Frames sent to someone other than the sender of the frame that caused them (or by the system).
PUSHES: tuple[type[FrameOut], ...] = (
    ReadyOut, PeerLeftOut, OfferOut, AnswerOut, IceCandidateOut, MessageOut, TypingOut, MessageReadOut,
    DoctorJoinedFrameOut, EmergencyNotificationOut, EmergencyTakenOut, EmergencyUnansweredOut, IvrEmergencyOut,
    WaitlistOfferOut, ErrorFrameOut,
)
