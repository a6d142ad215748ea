"""ICE servers for the browser: STUN URLs, and short-lived TURN credentials in the TURN REST
API's shared-secret scheme (coturn `use-auth-secret`): username `<expiry>:<userId>`,
credential = base64(HMAC-SHA1(secret, username)). The secret never leaves the server."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime
from typing import Any

from functions.core import clock
from functions.core.config import get_settings


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


def servers_for(user_id: Any) -> dict[str, Any]:
    """The ICE servers for this user now, from the settings (`STUN_URLS`, `TURN_URLS`, ...)."""
    settings = get_settings()
    return ice_servers(user_id, clock.now(), settings.stun_urls, settings.turn_urls, settings.turn_secret,
                       settings.turn_ttl_seconds)
