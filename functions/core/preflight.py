"""The one Lambda that answers CORS preflight (`OPTIONS`) for every route of the split stack.

It is a plain handler, not a Chalice app, so it imports only the settings: no pydantic, no
pymongo, no domain code. It answers for any path API Gateway sends it (only paths that have an
`OPTIONS` route reach it) and allows the standard methods; a method a path does not serve is then
answered by API Gateway as an unknown route. In one-function mode (`chalice deploy`, `make run`)
`functions.core.samesite.install_preflight` answers instead, naming each path's exact methods.
"""

from __future__ import annotations

from typing import Any

from functions.core.config import get_settings

ALLOW_METHODS = "DELETE, GET, PATCH, POST, PUT"
# = core.samesite.CORS_ALLOW_HEADERS (the existing frontend sends X-Forwarded-Proto on every request)
ALLOW_HEADERS = "Content-Type, Authorization, X-Requested-With, Accept, X-Forwarded-Proto"


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    headers = {key.lower(): value for key, value in (event.get("headers") or {}).items()}
    origin = headers.get("origin")
    answer: dict[str, str] = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
    if origin and origin in get_settings().allowed_origins:
        answer.update({
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Credentials": "true",
            "Access-Control-Allow-Methods": ALLOW_METHODS,
            "Access-Control-Allow-Headers": ALLOW_HEADERS,
            "Access-Control-Max-Age": "600",
            "Vary": "Origin",
        })
    return {"statusCode": 204, "headers": answer, "body": ""}
