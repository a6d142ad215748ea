"""HTTP edge shared by every domain: JSON encoding, envelopes, body/query validation,
the error boundary, CORS, preflight and the JSON 404/405 answers."""

from __future__ import annotations

import base64
import functools
import json
import math
import re
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeVar

import chalice.app
from bson import ObjectId
from chalice.app import Response

from functions.core import pages
from functions.core.config import get_settings
from functions.core.errors import AppError, BadRequest, Code, Forbidden, UnsupportedMediaType, ValidationFailed
from functions.core.observability import logger

if TYPE_CHECKING:  # pydantic is imported on first validation: routes that parse nothing never pay for it
    from pydantic import BaseModel, ValidationError

Model = TypeVar("Model", bound="BaseModel")

JSON_HEADERS = {"Content-Type": "application/json"}
# API answers may carry PHI: never cache them in shared caches or the browser.
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
    "Referrer-Policy": "no-referrer",
}
# The existing frontend sends X-Forwarded-Proto on every request (also in functions/core/preflight.py).
CORS_ALLOW_HEADERS = "Content-Type, Authorization, X-Requested-With, Accept, X-Forwarded-Proto"
MAX_JSON_DEPTH = 64

# Request body media types a route may declare (`bp.route(..., body_types=...)`).
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
_STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def iso_utc(value: datetime) -> str:
    if value.tzinfo is None:  # stored instants are UTC; naive ones come from old data
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _encode(value: Any) -> Any:
    if isinstance(value, ObjectId):
        return str(value)
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    pydantic = sys.modules.get("pydantic")  # not imported: value cannot be a model
    if pydantic is not None and isinstance(value, pydantic.BaseModel):
        return value.model_dump(mode="json", by_alias=True)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"Cannot encode {type(value).__name__} as JSON")


def to_json(payload: Any) -> str:
    return json.dumps(payload, default=_encode, separators=(",", ":"), ensure_ascii=False)


def respond(
    status: int = 200,
    headers: dict[str, str] | None = None,
    multi_value_headers: dict[str, list[str]] | None = None,
    **payload: Any,
) -> Response:
    """The success envelope: `{"success": true, ...resource keys}`."""
    all_headers: dict[str, str | list[str]] = {**JSON_HEADERS, **(headers or {}), **(multi_value_headers or {})}
    return Response(body=to_json({"success": True, **payload}), status_code=status, headers=all_headers)


def error_body(status: int, code: Code, message: str, errors: list[dict[str, str]] | None = None,
               **extra: Any) -> dict[str, Any]:
    return {"success": False, "message": message, "code": code, "errors": errors or [], **extra}


def error_response(status: int, code: Code, message: str, errors: list[dict[str, str]] | None = None,
                   headers: dict[str, str] | None = None, **extra: Any) -> Response:
    all_headers: dict[str, str | list[str]] = {**JSON_HEADERS, **(headers or {})}
    return Response(body=to_json(error_body(status, code, message, errors, **extra)), status_code=status,
                    headers=all_headers)


def app_error_response(exc: AppError) -> Response:
    return error_response(exc.status, exc.code, exc.message, exc.errors, exc.headers, **exc.extra)


# ---------------------------------------------------------------- validation


def field_errors(exc: ValidationError) -> list[dict[str, str]]:
    out = []
    for err in exc.errors(include_url=False, include_input=False):
        path = ".".join(str(p) for p in err["loc"] if p != "__root__") or "body"
        message = err["msg"]
        if err["type"] == "extra_forbidden":
            message = "Unknown field"
        out.append({"field": path, "message": message})
    return out


def first_error_message(errors: list[dict[str, str]]) -> str:
    """The `message` of a 400 built from field errors: the first failing field and what is wrong
    with it (the existing frontend shows only `message`, never `errors[]`)."""
    if not errors:
        return "Validation failed"
    first = errors[0]
    text = first["message"].removeprefix("Value error, ")  # pydantic's prefix for a validator's ValueError
    return text if first["field"] == "body" else f"{first['field']}: {text}"


def parse_model(model: type[Model], data: Any) -> Model:
    from pydantic import ValidationError

    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = field_errors(exc)
        raise ValidationFailed(first_error_message(errors), errors=errors) from None


def media_type(request: chalice.app.Request) -> str | None:
    """The request's media type, parsed strictly: `type/subtype` before any parameter, lower
    case (Chalice's own check also takes `text/plain; x=*/*` or `text/plain, application/json`
    as JSON). None when there is no Content-Type."""
    headers: Any = request.headers or {}
    raw = headers.get("content-type")
    if raw is None:
        return None
    value = str(raw).split(";", 1)[0].strip().lower()
    if "," in value or not re.fullmatch(r"[a-z0-9!#$&^_.+-]+/[a-z0-9!#$&^_.+-]+", value):
        return ""
    return value


def _depth(value: Any) -> int:
    """Nesting depth of decoded JSON, without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def json_body(request: chalice.app.Request) -> Any:
    raw = request.raw_body
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise BadRequest("Malformed JSON body", code=Code.MALFORMED_JSON) from None
    if _depth(data) > MAX_JSON_DEPTH:
        raise BadRequest(f"JSON nested deeper than {MAX_JSON_DEPTH} levels", code=Code.MALFORMED_JSON)
    return data


def form_body(request: chalice.app.Request) -> dict[str, Any]:
    """`application/x-www-form-urlencoded` or `multipart/form-data` fields (text; a repeated
    field becomes a list). File parts are refused: no route takes files this way yet."""
    from urllib.parse import parse_qsl

    body: Any = request.raw_body or b""
    raw: bytes = body.encode() if isinstance(body, str) else bytes(body)
    fields: dict[str, Any] = {}

    def add(name: str, value: str) -> None:
        if not value.strip():
            return  # an input left empty (a browser form sends every input): not given
        if name in fields:
            fields[name] = [*fields[name], value] if isinstance(fields[name], list) else [fields[name], value]
        else:
            fields[name] = value

    try:
        if media_type(request) == FORM:
            for name, value in parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(raw),
                                         max_num_fields=200):
                add(name, value)
            return fields
        from email.parser import BytesParser
        from email.policy import HTTP

        header = f"Content-Type: {request.headers['content-type']}\r\nMIME-Version: 1.0\r\n\r\n".encode()
        message = BytesParser(policy=HTTP).parsebytes(header + raw)
        if not message.is_multipart():
            raise ValueError("not multipart")
        for part in message.iter_parts():
            field_name: Any = part.get_param("name", header="content-disposition")
            if not field_name or part.get_filename() is not None:
                raise ValueError("unnamed or file part")
            payload = part.get_payload(decode=True)
            add(str(field_name), payload.decode("utf-8") if isinstance(payload, bytes) else "")
    except (ValueError, UnicodeDecodeError, KeyError):
        raise BadRequest("Malformed form body", code=Code.MALFORMED_FORM) from None
    return fields


def parse_body(request: chalice.app.Request, model: type[Model]) -> Model:
    """Validate the body into `model`: JSON, or form fields where the route declared them."""
    data = form_body(request) if media_type(request) in (FORM, MULTIPART) else json_body(request)
    if not isinstance(data, dict):
        raise BadRequest("The JSON body must be an object", code=Code.MALFORMED_JSON)
    return parse_model(model, data)


def parse_query(request: chalice.app.Request, model: type[Model]) -> Model:
    return parse_model(model, dict(request.query_params or {}))


def source_ip(request: chalice.app.Request) -> str:
    """The caller's address as API Gateway saw it (`requestContext.identity.sourceIp`); never a
    client-supplied header such as X-Forwarded-For, which anyone can set."""
    identity = (request.context or {}).get("identity") or {}
    return str(identity.get("sourceIp") or "unknown")


def pagination(total: int, page: int, limit: int) -> dict[str, int]:
    return {"total": total, "page": page, "pages": math.ceil(total / limit) if total else 0, "limit": limit}


# ---------------------------------------------------------------- error boundary


def _request_id(request: chalice.app.Request | None) -> str | None:
    """API Gateway's request id; the Lambda request id where there is none (chalice local)."""
    if request is None:
        return None
    from_gateway = (request.context or {}).get("requestId")
    if from_gateway:
        return str(from_gateway)
    lambda_context = getattr(request, "lambda_context", None)
    return getattr(lambda_context, "aws_request_id", None)


class SameSite(StrEnum):
    """When the same-site check (`check_same_site`) applies to a route's requests."""

    COOKIE = "cookie"  # state-changing requests that carry the session cookie (the default)
    ALWAYS = "always"  # every request, cookie or not: signing in, up and out
    EXEMPT = "exempt"  # never: pages authenticated by a single-use token in their link


@dataclass(frozen=True)
class EdgeRules:
    """What the HTTP edge does for a route besides running its view (declared in `bp.route`)."""

    same_site: SameSite = SameSite.COOKIE
    binary: bool = False  # answers bytes whatever the Accept; every answer leaves base64-encoded
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

    def route(self, path: str, *, body_types: tuple[str, ...] = (JSON,), same_site: SameSite = SameSite.COOKIE,
              binary: bool = False, html_errors: bool = False,
              **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """`body_types`: the request body media types this route's clients send; JSON unless a
        route declares others (the sign-up form posts `multipart/form-data`; later pharmacy
        registration, CSV uploads, provider webhooks). Checked strictly before the view runs: a
        state-changing request with another (or a malformed) Content-Type is a 415.

        `same_site`: see `SameSite`. `binary`: the route answers a file whatever the client's
        Accept (the frontend downloads the prescription PDF with `Accept: application/json`):
        Chalice's Accept check does not apply to it, every answer of it (its JSON errors too)
        leaves base64-encoded, and infra/split_routes.py makes its API Gateway integration
        convert them back to bytes. `html_errors`: the route is a page a browser opens; an
        error answers an HTML page when the client prefers HTML to JSON."""
        declared = kwargs.get("content_types")  # Chalice's own name for the same declaration
        if declared and body_types == (JSON,):
            body_types = (declared,) if isinstance(declared, str) else tuple(declared)
        kwargs["content_types"] = list(body_types)  # Chalice's check is lax; the strict one is below
        register = super().route(path, **kwargs)
        accepted = frozenset(t.lower() for t in body_types)
        rules = EdgeRules(same_site=SameSite(same_site), binary=binary, html_errors=html_errors)

        def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(view)
            def guarded(*args: Any, **kw: Any) -> Any:
                try:
                    check_body_type(self.current_request, accepted)
                    return view(*args, **kw)
                except AppError as exc:
                    if rules.html_errors and _wants_page(self.current_request):
                        return pages.error_page(exc.status, exc.message, headers=exc.headers)
                    return app_error_response(exc)
                except Exception:
                    request = self.current_request
                    logger.exception("Unhandled error", extra={"route": path})
                    return error_response(500, Code.INTERNAL, "Internal error", requestId=_request_id(request))

            guarded.edge_rules = rules  # type: ignore[attr-defined]  # read by the middleware and infra/
            register(guarded)
            return view

        return decorator


def _wants_page(request: chalice.app.Request | None) -> bool:
    headers: Any = (request.headers if request is not None else None) or {}
    return pages.prefers_html(headers.get("accept"))


def check_body_type(request: chalice.app.Request | None, accepted: frozenset[str]) -> None:
    if request is None or request.method not in _STATE_CHANGING:
        return
    kind = media_type(request)
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
    extra: dict[str, Any] = {"requestId": _request_id(request)} if status >= 500 else {}
    headers = {k: str(v) for k, v in response.headers.items() if k.lower() == "allow"}
    return error_response(status, code, message, headers=headers, **extra)


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
    if rule is SameSite.COOKIE and (request.method not in _STATE_CHANGING or not session_cookie_sent(headers)):
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
        logger.set_correlation_id(_request_id(event))  # logs and the 500 body name the same request
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
        return _Encoded.of(response) if rules.binary else response

    return middleware


class _Encoded(Response):
    """An answer of a `binary` route: base64-encoded (`isBase64Encoded`) whatever its
    Content-Type, its JSON errors included, since the route's integration decodes every answer
    (infra/split_routes.py). `chalice local` and the test client decode it likewise."""

    @classmethod
    def of(cls, response: Response) -> _Encoded:
        return cls(body=response.body, status_code=response.status_code, headers=response.headers)

    def to_dict(self, binary_types: list[str] | None = None) -> dict[str, Any]:
        answer = super().to_dict(None)
        body = answer["body"]
        raw = body if isinstance(body, bytes) else str(body).encode("utf-8")
        answer.update(body=base64.b64encode(raw).decode("ascii"), isBase64Encoded=True)
        return answer


class _EdgeRestHandler(chalice.app.RestAPIEventHandler):
    """Chalice's REST handler, except that a `binary` route's answer is never refused for the
    client's Accept header (Chalice answers 400 to a binary Content-Type the Accept does not
    name, and to any binary answer when there is no Accept at all)."""

    def _validate_binary_response(self, request_headers: Any, response_headers: Any) -> bool:
        if edge_rules(self.routes, self.current_request).binary:
            return True
        return bool(super()._validate_binary_response(request_headers, response_headers))


class _RequestSlot(threading.local):
    request: chalice.app.Request | None = None


def per_thread_requests(app: chalice.app.Chalice) -> None:
    """Make `app.current_request` (and so `bp.current_request`) per thread. Lambda serves one
    request at a time, but a threaded server (`chalice local`, the race tests' concurrent
    clients) would otherwise let one request's view read another's headers. Between requests
    there is none. Its REST handler is `_EdgeRestHandler`."""
    slot = _RequestSlot()

    class PerThreadApp(type(app)):  # type: ignore[misc]
        @property
        def current_request(self) -> chalice.app.Request | None:
            return slot.request

        @current_request.setter
        def current_request(self, value: chalice.app.Request | None) -> None:
            slot.request = value

        def __call__(self, event: Any, context: Any) -> Any:
            # Chalice.__call__ (chalice 1.34) with our REST handler (`_EdgeRestHandler`).
            self.lambda_context = context
            handler = _EdgeRestHandler(self.routes, self.api, self.log, self.debug,
                                       middleware_handlers=self._get_middleware_handlers("http"))
            self.current_request = handler.create_request_object(event, context)
            try:
                return handler(event, context)
            finally:
                slot.request = None  # no request is being served: nothing may read this one's

    app.__class__ = PerThreadApp


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
