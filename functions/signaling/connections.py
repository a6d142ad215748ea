"""The life of a WebSocket connection: `$connect` (the token checked, the connection recorded),
`$disconnect`, and closing the sockets of sessions that ended (logout, password change).

The JWT comes as the query parameter `token` (browsers cannot set headers on a WebSocket). A
connection document names its user, role and approval as the token's user was at `$connect`, so
no frame reads the user again; it lives at most API Gateway's 2 hours.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from bson import ObjectId

from functions.core import clock, metrics
from functions.core.config import get_settings
from functions.core.errors import Forbidden, Unauthorized
from functions.core.metrics import Metric
from functions.core.observability import logger
from functions.core.security import authenticate
from functions.signaling import sender
from functions.signaling.delivery import drop_connection
from functions.signaling.stores import connections

OK = {"statusCode": 200}
UNAVAILABLE = {"statusCode": 503}

WebsocketHandler = Callable[[Mapping[str, Any]], dict[str, Any]]


def answer_when_database_away(handler: WebsocketHandler) -> WebsocketHandler:
    """The WebSocket routes' side of the REST edge's rule: a database that is away is one log line
    without a traceback, and an answer, not a Lambda error: `$connect` is refused with 503, a
    frame is answered with a `db_unavailable` error frame (the connection stays), `$disconnect`
    leaves the record to the sweeper (it expires)."""

    @functools.wraps(handler)
    def guarded(event: Mapping[str, Any]) -> dict[str, Any]:
        from functions.core.db import is_database_away

        try:
            return handler(event)
        except Exception as exc:
            if not is_database_away(exc):
                raise
            logger.warning("Database unavailable", extra={"route": handler.__name__, "error": type(exc).__name__})
            context = event.get("requestContext") or {}
            if context.get("eventType") == "MESSAGE":
                from functions.core.errors import FrameCode
                from functions.signaling.delivery import reply_error

                reply_error(str(context.get("connectionId")), FrameCode.DB_UNAVAILABLE,
                            "The database is unavailable; please try again shortly")
            return UNAVAILABLE if context.get("eventType") == "CONNECT" else OK

    return guarded


def event_context(event: Mapping[str, Any]) -> dict[str, Any]:
    """The event's `requestContext` (its endpoint remembered for pushes, see `sender`)."""
    context = event.get("requestContext") or {}
    sender.use_event(context)
    return dict(context)


@answer_when_database_away
def on_connect(event: Mapping[str, Any]) -> dict[str, Any]:
    """The JWT comes as query parameter `token` (browsers cannot set headers on a WebSocket);
    missing or invalid -> 403, the gateway refuses the connection."""
    context = event_context(event)
    token = (event.get("queryStringParameters") or {}).get("token")
    if not token:
        return {"statusCode": 403}
    try:
        principal = authenticate({"authorization": f"Bearer {token}"})
    except (Unauthorized, Forbidden):
        return {"statusCode": 403}
    now = clock.now()
    connections.insert_connection({
        "_id": str(context["connectionId"]),
        "userId": principal.id,
        "jti": str(principal.claims.get("jti")),  # logging that token out closes this socket
        "role": principal.role,
        "name": principal.user.get("name"),
        "approved": principal.approved,
        "connectedAt": now,
        "expiresAt": now + timedelta(seconds=get_settings().ws_connection_ttl_seconds),
        "room": None, "peer": None, "peerUserId": None, "chat": {}, "online": False, "rl": {},
    })
    metrics.count(Metric.WEBSOCKET_CONNECTED)
    return OK


def end_sessions(user_id: ObjectId, jti: str | None = None, opened_before: datetime | None = None) -> int:
    """Close the sockets opened with a token that no longer counts: the one logged out (`jti`),
    or every token of the user (password changed or reset, account deactivated, approval
    withdrawn). Each is dropped at once (memberships, presence; a peer hears `peer-left`), so no
    frame reaches it any more, and the gateway is asked to close it; API Gateway would otherwise
    keep it open until its 2-hour cap. With `opened_before`, only the sockets opened at or before
    it (the repair of an admin decision leaves the sockets opened after a reactivation alone).
    Returns how many were closed."""
    ids = connections.live_connection_ids(user_id, clock.now(), jti, opened_before)
    for cid in ids:
        sender.close(cid)  # first: a drop whose reply is lost has deleted the record a retry would find
        drop_connection(cid)
    if ids:
        logger.info("Sockets closed after the session ended", extra={"userId": str(user_id), "count": len(ids)})
    return len(ids)


@answer_when_database_away
def on_disconnect(event: Mapping[str, Any]) -> dict[str, Any]:
    context = event_context(event)
    drop_connection(str(context.get("connectionId")))
    return OK
