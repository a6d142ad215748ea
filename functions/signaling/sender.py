"""The one way frames reach browsers: API Gateway's management API (`apigatewaymanagementapi`).

The endpoint is `WS_MANAGEMENT_ENDPOINT` when set (the local gateway, a custom domain), else
`https://{domainName}/{stage}` of the WebSocket event being handled (remembered for the rest of
the container's life, so REST routes that push find it too). Chalice's own `app.websocket_api`
always builds an `https://{apiId}.execute-api...` URL and caches the first one, which cannot
reach the local gateway; hence this module.

`WS_MANAGEMENT_SECRET`, when set, travels in the header `X-Local-Gateway-Secret` of every call:
the local gateway (`local/ws_gateway.py`) refuses its management API without it. API Gateway
authenticates the management API by SigV4 (the Lambda's role); the secret is only for the local
stand-in, which has no IAM, and is empty when deployed.

`send` answers SENT, GONE (410: the connection no longer exists; the caller deletes it, no
retry) or FAILED (anything else; logged). boto3 is imported on first use.
"""

from __future__ import annotations

import functools
import json
from enum import Enum
from typing import Any

from functions.core.config import get_settings
from functions.core.observability import logger


class Delivery(Enum):
    SENT = "sent"
    GONE = "gone"
    FAILED = "failed"


MANAGEMENT_AUTH_HEADER = "X-Local-Gateway-Secret"
_event_endpoint: str | None = None
posts = 0  # management-API posts made by this container (read by bench/signaling_bench.py)


def use_event(request_context: dict[str, Any]) -> None:
    """Remember the endpoint of the WebSocket API that sent this event."""
    global _event_endpoint
    domain, stage = request_context.get("domainName"), request_context.get("stage")
    if domain and stage:
        _event_endpoint = f"https://{domain}/{stage}"


def endpoint() -> str | None:
    return get_settings().ws_management_endpoint or _event_endpoint


def reset() -> None:
    """Forget clients and the remembered endpoint (tests switch moto and settings per case)."""
    global _event_endpoint, posts
    _client_for.cache_clear()
    _event_endpoint = None
    posts = 0


@functools.cache
def _client_for(url: str) -> Any:
    """One management-API client per endpoint for the container's life (boto3 imported on first use)."""
    import boto3
    from botocore.config import Config

    client = boto3.client("apigatewaymanagementapi", endpoint_url=url,
                          config=Config(retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=2,
                                        read_timeout=5))
    secret = get_settings().ws_management_secret
    if secret:
        def add_secret(request: Any, **_: Any) -> None:
            request.headers[MANAGEMENT_AUTH_HEADER] = secret

        client.meta.events.register("before-sign.apigatewaymanagementapi", add_secret)
    return client


def _client() -> Any:
    url = endpoint()
    return _client_for(url) if url is not None else None


def _error_code(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code") or type(exc).__name__)


def send(connection_id: str, message: dict[str, Any]) -> Delivery:
    """Post one JSON frame to one connection."""
    global posts
    client = _client()
    if client is None:
        logger.warning("no WebSocket management endpoint (set WS_MANAGEMENT_ENDPOINT)")
        return Delivery.FAILED
    from botocore.exceptions import BotoCoreError, ClientError

    posts += 1
    try:
        client.post_to_connection(ConnectionId=connection_id, Data=json.dumps(message, default=str).encode())
    except ClientError as exc:
        code = _error_code(exc)
        if code == "GoneException" or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 410:
            return Delivery.GONE
        logger.warning("frame not delivered", extra={"error": code, "type": message.get("type")})
        return Delivery.FAILED
    except BotoCoreError as exc:
        logger.warning("frame not delivered", extra={"error": type(exc).__name__, "type": message.get("type")})
        return Delivery.FAILED
    return Delivery.SENT


def close(connection_id: str) -> None:
    """Ask the gateway to close a connection (already gone is fine)."""
    client = _client()
    if client is None:
        return
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        client.delete_connection(ConnectionId=connection_id)
    except (ClientError, BotoCoreError) as exc:
        logger.debug("close failed", extra={"error": _error_code(exc)})
