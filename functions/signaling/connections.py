"""The life of a WebSocket connection: `$connect` (the token checked, the connection recorded),
`$disconnect`, and closing the sockets of sessions that ended (logout, password change).

The JWT comes as the query parameter `token` (browsers cannot set headers on a WebSocket). A
connection document names its user, role and approval as the token's user was at `$connect`, so
no frame reads the user again; it lives at most API Gateway's 2 hours.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from bson import ObjectId

from functions.core import clock
from functions.core.config import get_settings
from functions.core.errors import Forbidden, Unauthorized
from functions.core.observability import logger
from functions.core.security import authenticate
from functions.signaling import sender
from functions.signaling.delivery import drop_connection
from functions.signaling.stores import connections

OK = {"statusCode": 200}


def event_context(event: Mapping[str, Any]) -> dict[str, Any]:
    """The event's `requestContext` (its endpoint remembered for pushes, see `sender`)."""
    context = event.get("requestContext") or {}
    sender.use_event(context)
    return dict(context)


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
    return OK


def end_sessions(user_id: ObjectId, jti: str | None = None) -> int:
    """Close the sockets opened with a token that no longer counts: the one logged out (`jti`),
    or every token of the user (password changed or reset, account deactivated, approval
    withdrawn). Each is dropped at once (memberships, presence; a peer hears `peer-left`), so no
    frame reaches it any more, and the gateway is asked to close it; API Gateway would otherwise
    keep it open until its 2-hour cap. Returns how many were closed."""
    ids = connections.live_connection_ids(user_id, clock.now(), jti)
    for cid in ids:
        drop_connection(cid)
        sender.close(cid)
    if ids:
        logger.info("Sockets closed after the session ended", extra={"userId": str(user_id), "count": len(ids)})
    return len(ids)


def on_disconnect(event: Mapping[str, Any]) -> dict[str, Any]:
    context = event_context(event)
    drop_connection(str(context.get("connectionId")))
    return OK
