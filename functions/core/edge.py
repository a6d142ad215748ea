"""The error boundary of every route: the `Blueprint` whose views map domain errors (and
surprises) to the envelope, each route's edge rules (body types, same-site rule, binary
answers, HTML error pages), and the app-level middleware that applies them to every answer."""

from __future__ import annotations

import base64
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import chalice.app
from chalice.app import Response

from functions.core import pages
from functions.core.bodies import JSON, media_type, refuse_unusable_text
from functions.core.envelope import app_error_response, error_response
from functions.core.errors import AppError, Code, DatabaseUnavailable, UnsupportedMediaType
from functions.core.observability import logger
from functions.core.request_local import request_id
from functions.core.samesite import STATE_CHANGING, SameSite, check_same_site, cors_headers

# API answers may carry PHI: never cache them in shared caches or the browser.
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
    "Referrer-Policy": "no-referrer",
}


@dataclass(frozen=True)
class EdgeRules:
    """What the HTTP edge does for a route besides running its view (declared in `bp.route`)."""

    same_site: SameSite = SameSite.COOKIE
    binary: bool = False  # answers bytes whatever the Accept; every answer leaves base64-encoded
    json_as_text: bool = False  # a binary route whose JSON answers leave as they are (files alone encoded)
    html_errors: bool = False  # a page: errors answer an HTML page to clients that prefer HTML


DEFAULT_RULES = EdgeRules()


def edge_rules(routes: dict[str, dict[str, Any]], request: chalice.app.Request | None) -> EdgeRules:
    """The rules of the route (of the app's `routes`) that `request` is for."""
    if request is None:
        return DEFAULT_RULES
    entry = routes.get(str((request.context or {}).get("resourcePath", "")), {}).get(request.method)
    return getattr(entry.view_function, "edge_rules", DEFAULT_RULES) if entry is not None else DEFAULT_RULES


class Blueprint(chalice.app.Blueprint):
    """A Chalice Blueprint whose views map domain errors (and surprises) to the envelope.

    Routes keep `app.current_request`-style access through `bp.current_request`.
    """

    def request_headers(self) -> Any:
        """The current request's headers, for `require_user` / `optional_user` (none outside a request)."""
        request = self.current_request
        return request.headers if request is not None else {}

    def route(self, path: str, *, body_types: tuple[str, ...] = (JSON,), same_site: SameSite = SameSite.COOKIE,
              binary: bool = False, json_as_text: bool = False, html_errors: bool = False,
              **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """`body_types`: the request body media types this route's clients send; JSON unless a
        route declares others (the sign-up form posts `multipart/form-data`; later pharmacy
        registration, CSV uploads, provider webhooks). Checked strictly before the view runs: a
        state-changing request with another (or a malformed) Content-Type is a 415.

        `same_site`: see `SameSite`. `binary`: the route answers a file whatever the client's
        Accept (the frontend downloads the prescription PDF with `Accept: application/json`):
        Chalice's Accept check does not apply to it, every answer of it (its JSON errors too)
        leaves base64-encoded, and infra/split_routes.py makes its API Gateway integration
        convert them back to bytes. `json_as_text` (with `binary`): the route answers JSON too, as a
        format of its own (the data export: `?format=json` or `zip`), so only its files leave
        base64-encoded and its JSON answers reach every client as text, whatever its Accept.
        `html_errors`: the route is a page a browser opens; an error answers an HTML page when the
        client prefers HTML to JSON."""
        declared = kwargs.get("content_types")  # Chalice's own name for the same declaration
        if declared and body_types == (JSON,):
            body_types = (declared,) if isinstance(declared, str) else tuple(declared)
        kwargs["content_types"] = list(body_types)  # Chalice's check is lax; the strict one is below
        register = super().route(path, **kwargs)
        accepted = frozenset(t.lower() for t in body_types)
        rules = EdgeRules(same_site=SameSite(same_site), binary=binary, json_as_text=json_as_text,
                          html_errors=html_errors)

        def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(view)
            def guarded(*args: Any, **kw: Any) -> Any:
                try:
                    check_body_type(self.current_request, accepted)
                    check_request_text(self.current_request)
                    return view(*args, **kw)
                except AppError as exc:
                    if rules.html_errors and _wants_page(self.current_request):
                        return pages.error_page(exc.status, exc.message, headers=exc.headers)
                    return app_error_response(exc)
                except Exception as exc:
                    return unexpected_error_response(exc, path, self.current_request)

            guarded.edge_rules = rules  # type: ignore[attr-defined]  # read by the middleware and infra/
            register(guarded)
            return view

        return decorator


def unexpected_error_response(exc: Exception, route: str, request: chalice.app.Request | None) -> Response:
    """An exception no use case turned into an `AppError`. The database being away is not a
    defect of ours: 503 `DB_UNAVAILABLE` with `Retry-After`, one log line without a traceback.
    Anything else is a 500 whose traceback is logged (never sent)."""
    from functions.core.db import is_database_away  # pymongo's errors are loaded only on this path

    if is_database_away(exc):
        logger.warning("Database unavailable", extra={"route": route, "error": type(exc).__name__})
        return app_error_response(DatabaseUnavailable())
    logger.exception("Unhandled error", extra={"route": route})
    return error_response(500, Code.INTERNAL, "Internal error", requestId=request_id(request))


def _wants_page(request: chalice.app.Request | None) -> bool:
    headers: Any = (request.headers if request is not None else None) or {}
    return pages.prefers_html(headers.get("accept"))


def check_request_text(request: chalice.app.Request | None) -> None:
    """Path parameters and the query follow the body's rule for text (`refuse_unusable_text`).
    A path parameter is read decoded too: API Gateway decodes it, `chalice local` does not (no
    parameter of this API holds a `%`)."""
    if request is None:
        return
    from urllib.parse import unquote

    for name, value in (request.uri_params or {}).items():
        refuse_unusable_text(unquote(value, errors="surrogateescape"), name)
    for name, value in (request.query_params or {}).items():
        refuse_unusable_text(value, name)


def check_body_type(request: chalice.app.Request | None, accepted: frozenset[str]) -> None:
    if request is None or request.method not in STATE_CHANGING:
        return
    kind = media_type(request.headers)
    if kind is None and (not request.raw_body or JSON in accepted):
        return  # no body at all (PUT /confirm), or a JSON client that names no type (Chalice's default)
    if kind not in accepted:
        raise UnsupportedMediaType(f"Send the body as {' or '.join(sorted(accepted))}",
                                   code=Code.UNSUPPORTED_MEDIA_TYPE)


# ---------------------------------------------------------------- app-level middleware

_CHALICE_CODES = {
    "MethodNotAllowedError": (405, Code.METHOD_NOT_ALLOWED, "Method not allowed"),
    "UnsupportedMediaType": (415, Code.UNSUPPORTED_MEDIA_TYPE, "Unsupported media type"),
    "BadRequestError": (400, Code.BAD_REQUEST, "Bad request"),
    "BadRequest": (400, Code.BAD_REQUEST, "Bad request"),
    "InternalServerError": (500, Code.INTERNAL, "Internal error"),
}


def _normalize_chalice_error(response: Response, request: chalice.app.Request | None) -> Response:
    """Chalice answers some errors itself (`{"Code", "Message"}`); put them in our envelope,
    keeping Chalice's explanation as the `message` (the generic text only when it gave none)."""
    body = response.body
    if not isinstance(body, dict) or "Code" not in body or "success" in body:
        return response
    status, code, generic = _CHALICE_CODES.get(body["Code"], (response.status_code, Code.ERROR, "Request failed"))
    message = str(body.get("Message") or "").strip() or generic
    extra: dict[str, Any] = {"requestId": request_id(request)} if status >= 500 else {}
    headers = {k: str(v) for k, v in response.headers.items() if k.lower() == "allow"}
    return error_response(status, code, message, headers=headers, **extra)


def _forget_stale_cookie(request: chalice.app.Request, response: Response) -> None:
    """A 401 to a request whose credential was the session cookie means that cookie is bad,
    expired or revoked: the answer removes it, so the browser stops sending it."""
    if response.status_code != 401 or any(k.lower() == "set-cookie" for k in response.headers):
        return
    from functions.core.security import clear_cookie, session_cookie_sent

    if session_cookie_sent(request.headers or {}):
        response.headers["Set-Cookie"] = clear_cookie()


def edge_middleware(app: chalice.app.Chalice) -> Callable[[chalice.app.Request, Callable[..., Response]], Response]:
    """The app's HTTP middleware: the same-site check, errors into the envelope, stale cookies
    removed, security and CORS headers on every answer."""

    def middleware(event: chalice.app.Request, get_response: Callable[..., Response]) -> Response:
        logger.set_correlation_id(request_id(event))  # logs and the 500 body name the same request
        rules = edge_rules(app.routes, event)
        try:
            check_same_site(event, rules.same_site)
            response = get_response(event)
        except AppError as exc:
            response = app_error_response(exc)
        response = _normalize_chalice_error(response, event)
        _forget_stale_cookie(event, response)
        origin = event.headers.get("origin") if event.headers else None
        for key, value in {**SECURITY_HEADERS, **cors_headers(origin)}.items():
            response.headers.setdefault(key, value)
        return _Encoded.of(response) if _encoded(rules, response) else response

    return middleware


def _encoded(rules: EdgeRules, response: Response) -> bool:
    """Whether the answer leaves base64-encoded: every answer of a `binary` route, except its
    JSON answers when it declares `json_as_text`."""
    if not rules.binary:
        return False
    kind = next((str(v) for k, v in response.headers.items() if k.lower() == "content-type"), JSON)
    return not (rules.json_as_text and kind.split(";")[0].strip().lower() == JSON)


class _Encoded(Response):
    """An answer of a `binary` route: base64-encoded (`isBase64Encoded`) whatever its
    Content-Type, its JSON errors included, since the route's integration decodes every answer
    (infra/split_routes.py); a `json_as_text` route's JSON answers are not (API Gateway passes an
    answer not marked base64 on as it is). `chalice local` and the test client decode it likewise."""

    @classmethod
    def of(cls, response: Response) -> _Encoded:
        return cls(body=response.body, status_code=response.status_code, headers=response.headers)

    def to_dict(self, binary_types: list[str] | None = None) -> dict[str, Any]:
        answer = super().to_dict(None)
        body = answer["body"]
        raw = body if isinstance(body, bytes) else str(body).encode("utf-8")
        answer.update(body=base64.b64encode(raw).decode("ascii"), isBase64Encoded=True)
        return answer


class EdgeRestHandler(chalice.app.RestAPIEventHandler):
    """Chalice's REST handler, except that a `binary` route's answer is never refused for the
    client's Accept header (Chalice answers 400 to a binary Content-Type the Accept does not
    name, and to any binary answer when there is no Accept at all)."""

    def _validate_binary_response(self, request_headers: Any, response_headers: Any) -> bool:
        if edge_rules(self.routes, self.current_request).binary:
            return True
        return bool(super()._validate_binary_response(request_headers, response_headers))
