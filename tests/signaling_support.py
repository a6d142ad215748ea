"""Helpers for the signaling tests: API-Gateway-shaped WebSocket events sent to the app's real
`ws_*` Lambdas, and what moto's `apigatewaymanagementapi` recorded for each connection.

moto appends every post to a connection as raw bytes (`b'{..}{..}'`) and stores ids
URL-encoded; `frames(cid)` decodes both.
"""

from __future__ import annotations

import contextlib
import itertools
import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from tests.factories import make_user

API_ID = "abc123"
DOMAIN = f"{API_ID}.execute-api.us-east-1.amazonaws.com"
_ids = itertools.count(1)


def new_cid() -> str:
    return f"Cid{next(_ids):05d}xyz="  # real ids often end in "=" (moto stores it as %3D)


def ws_event(route_key: str, cid: str, body: str | None = None, query: dict[str, str] | None = None) -> dict[str, Any]:
    event_type = {"$connect": "CONNECT", "$disconnect": "DISCONNECT"}.get(route_key, "MESSAGE")
    return {"requestContext": {"routeKey": route_key, "eventType": event_type, "connectionId": cid,
                               "domainName": DOMAIN, "stage": "api", "apiId": API_ID, "requestId": f"req-{cid}",
                               "connectedAt": 1700000000000, "identity": {"sourceIp": "1.2.3.4"}},
            "queryStringParameters": query, "isBase64Encoded": False, "body": body}


class Sockets:
    """Drives the app's WebSocket Lambdas the way API Gateway would."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.read_upto: dict[str, int] = {}

    def invoke(self, name: str, event: dict[str, Any]) -> Any:
        from chalice.local import LambdaContext

        return self.app.handler_map[name](event, LambdaContext(name, memory_size=128))

    def connect(self, user: dict[str, Any] | None = None, token: str | None = None) -> tuple[str, int]:
        from functions.core.security import issue_token

        cid = new_cid()
        if token is None and user is not None:
            token, _ = issue_token(user)
        query = {"token": token} if token is not None else None
        return cid, self.invoke("ws_connect", ws_event("$connect", cid, query=query))["statusCode"]

    def open(self, user: dict[str, Any]) -> str:
        cid, status = self.connect(user)
        assert status == 200
        return cid

    def send(self, cid: str, frame: Any) -> Any:
        body = frame if isinstance(frame, str) else json.dumps(frame)
        return self.invoke("ws_message", ws_event("$default", cid, body))

    def disconnect(self, cid: str) -> Any:
        return self.invoke("ws_disconnect", ws_event("$disconnect", cid))

    def frames(self, cid: str) -> list[dict[str, Any]]:
        """Every frame posted to this connection so far."""
        from moto.apigatewaymanagementapi.models import apigatewaymanagementapi_backends
        from moto.core import DEFAULT_ACCOUNT_ID

        connections = apigatewaymanagementapi_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].connections
        key = quote(cid, safe="")
        raw = connections[key].data.decode() if key in connections else ""
        decoder, out, at = json.JSONDecoder(), [], 0
        while at < len(raw):
            value, at = decoder.raw_decode(raw, at)
            out.append(value)
        return out

    def new_frames(self, cid: str) -> list[dict[str, Any]]:
        """Frames posted since the last call for this connection."""
        everything = self.frames(cid)
        start = self.read_upto.get(cid, 0)
        self.read_upto[cid] = len(everything)
        return everything[start:]

    def types(self, cid: str) -> list[str]:
        return [f["type"] for f in self.new_frames(cid)]


@contextlib.contextmanager
def fresh_sockets(chalice_app: Any) -> Iterator[Sockets]:
    """The WebSocket Lambdas with the sender's and scheduler's cached clients reset (moto is
    per test). Test modules wrap it in a `sockets` fixture that also asks for `client` (real
    database, moto) and `clock` (frozen at Mon 2026-03-02 10:00 UTC)."""
    from functions.signaling import sender, timeouts

    sender.reset()
    timeouts.reset()
    try:
        yield Sockets(chalice_app)
    finally:
        sender.reset()
        timeouts.reset()


def confirmed_appointment(clock: Any, *, starts_in: timedelta = timedelta(minutes=10), status: str = "confirmed",
                          patient: dict[str, Any] | None = None, doctor: dict[str, Any] | None = None
                          ) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """An appointment written straight to the database: (appointment, patient, doctor)."""
    import secrets

    from bson import ObjectId

    from functions.core.db import get_db

    patient = patient or make_user("patient")
    doctor = doctor or make_user("doctor")
    start = clock.current + starts_in
    appt_id = ObjectId()
    appt = {"_id": appt_id, "patient": patient["_id"], "doctor": doctor["_id"], "status": status,
            "start": start, "end": start + timedelta(minutes=30), "roomId": secrets.token_urlsafe(16),
            "slotKey": f"{doctor['_id']}|{start.isoformat()}|{appt_id}",
            "patientSlotKey": f"{patient['_id']}|{start.isoformat()}|{appt_id}",
            "parties": {"patient": {"name": patient["name"], "contact": patient["contact"], "contactType": "email"},
                        "doctor": {"name": doctor["name"], "contact": doctor["contact"], "contactType": "email"}},
            "description": "x", "symptoms": "SECRET-SYMPTOM", "createdAt": clock.current}
    get_db()["appointments"].insert_one(appt)
    return appt, patient, doctor


def in_call(sockets: Sockets, appt: dict[str, Any], patient: dict[str, Any], doctor: dict[str, Any]
            ) -> tuple[str, str]:
    """Both participants connected and in the appointment's room; frames read so far are skipped."""
    p, d = sockets.open(patient), sockets.open(doctor)
    sockets.send(p, {"action": "join-room", "roomId": appt["roomId"]})
    sockets.send(d, {"action": "join-room", "roomId": appt["roomId"]})
    sockets.new_frames(p)
    sockets.new_frames(d)
    return p, d
