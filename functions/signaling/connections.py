"""The life of a WebSocket connection: `$connect` (the token checked, the connection recorded),
`$disconnect`, and closing the sockets of sessions that ended (logout, password change).

The JWT comes as the query parameter `token` (browsers cannot set headers on a WebSocket). A
connection document names its user, role and approval as the token's user was at `$connect`, so
no frame reads the user again; it lives at most API Gateway's 2 hours, and never past the
token's `exp` (a socket must not outlive the credential that opened it).

Per user (issue 21), at most `WS_MAX_CONNECTIONS_PER_USER` live connections: a `$connect` over
the cap **closes the user's oldest connections** (told `{type: "error", code: "replaced"}`
first), it is not refused. Why: API Gateway's `$disconnect` is best effort, so a refusing cap
would lock a user out for up to 2 hours behind records of sockets that are already gone (a
crashed tab, a phone that changed networks); the newest connection is the one the user is
looking at. An attacker still holds at most the cap. The decision is exact under races without
a counter: each `$connect` inserts its record, then reads the user's live records and closes
those outside the newest N of what it saw; no one closes a member of the global newest N, and
the last insert's read sees them all. New connections are also rated (`connect_limits`, the one
limiter `core.throttle`): `WS_CONNECTS_PER_IP_PER_MINUTE` per client address (API Gateway's
`sourceIp`), taken before the token is even checked, so a flood of anonymous or failing
handshakes spends its own address's budget; then `WS_CONNECTS_PER_MINUTE` from everywhere, taken
only by an authenticated `$connect` (so anonymous floods from many addresses cannot use it up).
Over either, `$connect` is refused with 429 (counted as `RateLimitRefused`). The user's frame budget
(`WS_MAX_FRAMES_PER_USER_PER_SECOND`) is split into per-connection shares written here, so a
frame still costs one round trip (see `frames`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId

from functions.core import clock, metrics, throttle
from functions.core.config import get_settings
from functions.core.errors import Forbidden, FrameCode, Unauthorized
from functions.core.metrics import Metric
from functions.core.observability import logger
from functions.core.security import authenticate
from functions.core.throttle import Limit
from functions.signaling import sender
from functions.signaling.delivery import drop_connection, reply_error
from functions.signaling.stores import connections

OK = {"statusCode": 200}
UNAVAILABLE = {"statusCode": 503}
REPLACED = {"statusCode": 429}  # lost a race for the last places (the others are newer): refused
TOO_MANY = {"statusCode": 429}  # over the per-address or global rate of new connections

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
    now = clock.now()
    ip = str((context.get("identity") or {}).get("sourceIp") or "") or None
    per_address, everywhere = connect_limits()
    if not throttle.try_take(per_address, ip or "unknown", now):
        logger.info("WebSocket connect refused: over a limit", extra={"limit": per_address.name})
        return TOO_MANY
    token = (event.get("queryStringParameters") or {}).get("token")
    if not token:
        return {"statusCode": 403}
    try:
        principal = authenticate({"authorization": f"Bearer {token}"})
    except (Unauthorized, Forbidden):
        return {"statusCode": 403}
    if not throttle.try_take(everywhere, "all", now):
        logger.info("WebSocket connect refused: over a limit", extra={"limit": everywhere.name})
        return TOO_MANY
    settings = get_settings()
    cid = str(context["connectionId"])
    connections.insert_connection({
        "_id": cid,
        "userId": principal.id,
        "jti": str(principal.claims.get("jti")),  # logging that token out closes this socket
        "role": principal.role,
        "name": principal.user.get("name"),
        "approved": principal.approved,
        "ip": ip,  # per-address budgets
        "connectedAt": now,
        "order": ObjectId(),
        "expiresAt": connection_expiry(now, settings.ws_connection_ttl_seconds, principal.claims.get("exp")),
        "share": frame_share(settings.ws_max_frames_per_user_per_second, settings.ws_max_frames_per_second, 1),
        "room": None, "peer": None, "peerUserId": None, "chat": {}, "online": False, "rl": {},
    })
    metrics.count(Metric.WEBSOCKET_CONNECTED)
    return OK if keep_newest(cid, principal.id, now) else REPLACED


def connect_limits() -> tuple[Limit, Limit]:
    """New connections a minute per client address, and from everywhere (see the docstring)."""
    settings, minute = get_settings(), timedelta(minutes=1)
    return (Limit("ws-connect-ip", settings.ws_connects_per_ip_per_minute, minute),
            Limit("ws-connect-all", settings.ws_connects_per_minute, minute))


def connection_expiry(now: datetime, ttl_seconds: int, token_exp: Any) -> datetime:
    """`min(connect + TTL, the token's exp)`: frames are refused and the socket closed after it."""
    expiry = now + timedelta(seconds=ttl_seconds)
    if isinstance(token_exp, int | float):
        expiry = min(expiry, datetime.fromtimestamp(token_exp, UTC))
    return expiry


def frame_share(per_user: int, per_connection: int, live: int) -> int:
    """One connection's frames a second when its user has `live` connections: an equal part of
    the user's budget, never more than the per-connection budget (at least 1)."""
    return max(1, min(per_connection, per_user // max(1, live)))


def keep_newest(cid: str, user_id: ObjectId, now: datetime) -> bool:
    """Close the user's connections beyond the newest `WS_MAX_CONNECTIONS_PER_USER` (the oldest
    first) and lower every remaining connection's frame share; False when `cid` itself is
    among those closed (a race with newer connects of the same user). Off the frame path."""
    settings = get_settings()
    cap = max(1, settings.ws_max_connections_per_user)
    live = sorted(connections.live_connections(user_id, now),
                  key=lambda doc: (doc.get("connectedAt") or now, doc.get("order") or ObjectId("0" * 24), doc["_id"]),
                  reverse=True)
    for old in live[cap:]:
        if old["_id"] != cid:
            reply_error(old["_id"], FrameCode.REPLACED,
                        "Closed: this account opened a newer connection (at most "
                        f"{cap} at a time)")
            sender.close(old["_id"])
        drop_connection(old["_id"])
    connections.lower_share(user_id, now, frame_share(settings.ws_max_frames_per_user_per_second,
                                                      settings.ws_max_frames_per_second, min(len(live), cap)))
    return all(old["_id"] != cid for old in live[cap:])


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
