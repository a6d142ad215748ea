"""Who may call from a browser: the same-site check of requests a foreign page could make, the
CORS headers of allowed origins, and the CORS preflight every path answers."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import chalice.app
from chalice.app import Response

from functions.core.config import get_settings
from functions.core.errors import Code, Forbidden

# The existing frontend sends X-Forwarded-Proto on every request (also in functions/core/preflight.py).
CORS_ALLOW_HEADERS = "Content-Type, Authorization, X-Requested-With, Accept, X-Forwarded-Proto"
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class SameSite(StrEnum):
    """When the same-site check (`check_same_site`) applies to a route's requests."""

    COOKIE = "cookie"  # state-changing requests that carry the session cookie (the default)
    ALWAYS = "always"  # every request, cookie or not: signing in, up and out
    EXEMPT = "exempt"  # never: pages authenticated by a single-use token in their link


def cors_headers(origin: str | None) -> dict[str, str]:
    if not origin or origin not in get_settings().allowed_origins:
        return {}
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Credentials": "true",
        "Vary": "Origin",
    }


def serialized_origin(value: str | None) -> bool:
    """Is this `Origin` a serialized origin (`scheme://host[:port]`, or the opaque `null`)? The
    existing frontend's dev proxy sends the bare `host:port` of the page instead, which names no
    scheme and so proves nothing about who sent the request: it counts as no Origin at all."""
    return value is not None and (value == "null" or "://" in value)


def check_same_site(request: chalice.app.Request, rule: SameSite = SameSite.COOKIE) -> None:
    """Refuse a browser request a foreign page made. Form and multipart posts are CORS "simple"
    requests any page can send with the session cookie; signing in or out needs no cookie to be
    abused (a foreign form could sign a visitor into someone else's account). So a request the
    rule covers (`SameSite`) must come from the API's own origin or an allowed one.

    A serialized `Origin` decides when there is one (`null`, from sandboxed frames and some
    redirects, is refused). Otherwise the browser's `Sec-Fetch-Site` does: `same-origin` and
    `none` (typed or bookmarked) pass, `same-site` and `cross-site` are refused, and its absence
    means a client that is not a browser. Behind the frontend's proxy, `Origin` is bare (see
    `serialized_origin`) and `Host` is the API's own, never the page's: so no comparison of the
    two, and no guessed scheme, could tell the frontend from a foreign page; the browser's
    `Sec-Fetch-Site` can. A bearer token is no ambient authority: such requests always pass."""
    headers: Any = request.headers or {}
    from functions.core.security import bearer_sent, session_cookie_sent

    if rule is SameSite.EXEMPT or bearer_sent(headers):
        return
    if rule is SameSite.COOKIE and (request.method not in STATE_CHANGING or not session_cookie_sent(headers)):
        return
    origin = headers.get("origin")
    if serialized_origin(origin):
        proto = headers.get("x-forwarded-proto", "https").split(",")[0].strip()
        own = f"{proto}://{headers.get('host', '')}"
        if origin != "null" and (origin in get_settings().allowed_origins or origin == own):
            return
    elif headers.get("sec-fetch-site", "same-origin").strip().lower() in ("same-origin", "none"):
        return
    raise Forbidden("Cross-site request refused", code=Code.CROSS_SITE_REQUEST)


def install_preflight(app: chalice.app.Chalice) -> None:
    """Answer CORS preflight on every path from the allow-list (API Gateway's generated
    OPTIONS mock can only name one fixed origin)."""

    def preflight() -> Response:
        request = app.current_request
        assert request is not None
        resource_path = str(request.context.get("resourcePath", ""))
        methods = sorted(app.routes.get(resource_path, {}).keys())
        headers: dict[str, str | list[str]] = {**cors_headers(request.headers.get("origin"))}
        if headers:
            headers.update({
                "Access-Control-Allow-Methods": ", ".join(m for m in methods if m != "OPTIONS"),
                "Access-Control-Allow-Headers": CORS_ALLOW_HEADERS,
                "Access-Control-Max-Age": "600",
            })
        return Response(body="", status_code=204, headers=headers)

    for path, methods in list(app.routes.items()):
        if "OPTIONS" not in methods:
            app.route(path, methods=["OPTIONS"], name="cors_preflight")(preflight)
