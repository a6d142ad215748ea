"""ICE servers for the browser: STUN URLs, and short-lived TURN credentials in the TURN REST
API's shared-secret scheme (coturn `use-auth-secret`): username `<expiry>:<userId>`,
credential = base64(HMAC-SHA1(secret, username)). The secret never leaves the server.

A TURN relay carries media at the operator's cost, so credentials are minted only for a
participant of a room whose video is open now (`access.video_allowed`: a confirmed appointment
in its window, or an emergency session a doctor accepted), named by `?roomId=`. Anyone else, or
a call without a room, gets the STUN servers only (200, the same shape): the call page builds
its peer connection from whatever list it gets, and a direct or STUN-found path still works, so
refusing with 403 would break a page that asked a moment early for nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime
from typing import Any

from functions.core import clock
from functions.core.config import get_settings
from functions.signaling import access


def turn_credential(secret: str, username: str) -> str:
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def ice_servers(user_id: Any, now: datetime, stun_urls: tuple[str, ...], turn_urls: tuple[str, ...],
                turn_secret: str, ttl_seconds: int) -> dict[str, Any]:
    servers: list[dict[str, Any]] = []
    if stun_urls:
        servers.append({"urls": list(stun_urls)})
    if turn_urls and turn_secret:
        expiry = int(now.timestamp()) + ttl_seconds
        username = f"{expiry}:{user_id}"
        servers.append({"urls": list(turn_urls), "username": username,
                        "credential": turn_credential(turn_secret, username)})
    return {"iceServers": servers, "ttl": ttl_seconds}


def servers_for(user_id: Any, room_id: str | None) -> dict[str, Any]:
    """The ICE servers for this user now, from the settings (`STUN_URLS`, `TURN_URLS`, ...):
    TURN only when `room_id` is a room the user may be in a call in now (one read, or two for
    an emergency; none without a room or without TURN configured)."""
    settings = get_settings()
    now = clock.now()
    turn = settings.turn_urls if settings.turn_urls and settings.turn_secret and room_id and access.video_allowed(
        access.find_room(room_id, settings.join_early_minutes), user_id, now) else ()
    return ice_servers(user_id, now, settings.stun_urls, turn, settings.turn_secret, settings.turn_ttl_seconds)
