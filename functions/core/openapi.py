"""The OpenAPI 3.1 description of the API, generated from the app's routes and pydantic schemas.

Nothing has to be declared for a route to be described. For each route of `app.routes` the view
function's own source is read (it is the thin four-line route of the style guide):

- `parse_body(request, Model)` gives the request body, `parse_query(request, Model)` the query
  parameters, `parse_model(Model, ...)` a body too;
- `require_user(...)` makes the route authenticated (bearer token or the `token` cookie),
  `optional_user(...)` optionally so;
- the docstring gives the summary and description; the path's `{names}` the path parameters.

Every answer is the envelope: `2XX` is `{"success": true, ...}` and `4XX`/`5XX` the error
envelope. A route whose success answer has a model says so with `@describe(response=Model)`
(under `@bp.route`), which puts that model in the document instead of the generic envelope.
A route that exists in the dev stage only says so with `@dev_only` (under `@bp.route`): it is
left out of every other stage's document (issue 21: `POST /pharmacy/quick-setup` was in all).

`@describe(errors=(Code.SLOT_TAKEN, ...))` lists the error codes (of the `Code` catalogue) the
route itself can answer. The document then lists them per operation as `x-error-codes` and as the
`code` enum of its error envelope, together with the codes any route can answer (`EDGE_CODES`:
malformed bodies, the database away...) and, on an authenticated route, the session's codes
(`AUTH_CODES`). A route without declared errors documents the bare envelope (any code).
`@describe(examples={"name": {"request": {...}, "response": {...}}})` gives the request and
success-response examples of its main flows (either side may be left out).
"""

from __future__ import annotations

import ast
import contextlib
import inspect
import re
import textwrap
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from functions.core.errors import Code

if TYPE_CHECKING:  # routes import `describe`: keep pydantic out of that import
    from pydantic import BaseModel

Mode = Literal["validation", "serialization"]

OPENAPI_VERSION = "3.1.0"
REF = "#/components/schemas/{model}"
_DESCRIBED: dict[Callable[..., Any], dict[str, Any]] = {}
_DEV_ONLY: set[Callable[..., Any]] = set()
DEV_STAGE = "dev"
_BODY_CALLS = {"parse_body": 1, "parse_model": 0}
_QUERY_CALLS = {"parse_query": 1}

ERROR_ENVELOPE: dict[str, Any] = {
    "type": "object",
    "required": ["success", "message", "code", "errors"],
    "properties": {
        "success": {"const": False},
        "message": {"type": "string"},
        "code": {"type": "string"},
        "errors": {"type": "array", "items": {
            "type": "object", "required": ["field", "message"],
            "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
        }},
        "requestId": {"type": ["string", "null"]},
    },
}
# Codes any route can answer whatever it does: the HTTP edge's (bodies, media types, methods,
# cross-site refusals), validation, a generic rate limit, a dependency or the database away.
EDGE_CODES: tuple[Code, ...] = (
    Code.BAD_REQUEST, Code.VALIDATION_FAILED, Code.MALFORMED_JSON, Code.MALFORMED_FORM,
    Code.UNSUPPORTED_MEDIA_TYPE, Code.PAYLOAD_TOO_LARGE, Code.METHOD_NOT_ALLOWED, Code.CROSS_SITE_REQUEST,
    Code.RATE_LIMITED, Code.UNAVAILABLE, Code.DB_UNAVAILABLE, Code.INTERNAL, Code.ERROR, Code.ROUTE_NOT_FOUND,
)
# Codes of an authenticated route's session and role checks (functions/core/security.py).
AUTH_CODES: tuple[Code, ...] = (
    Code.UNAUTHENTICATED, Code.INVALID_TOKEN, Code.ACCOUNT_INACTIVE, Code.FORBIDDEN, Code.APPROVAL_REQUIRED,
    Code.MFA_ENROLMENT_REQUIRED,  # a session limited to enrolling a second factor (MFA_REQUIRED_ROLES)
)
SUCCESS_ENVELOPE: dict[str, Any] = {
    "type": "object",
    "required": ["success"],
    "properties": {"success": {"const": True}},
    "additionalProperties": True,
}


def describe(*, response: type[BaseModel] | None = None, status: int | tuple[int, ...] = 200,
             content_type: str | tuple[str, ...] = "application/json",
             schema: dict[str, Any] | None = None, errors: tuple[Code, ...] = (),
             examples: dict[str, dict[str, Any]] | None = None,
             ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare a route's success answer: `response` is the model of the whole JSON body (including
    `success`); or `schema` a JSON schema of a body that is not the envelope; or `content_type`
    one or more non-JSON types (`application/pdf`, `text/html`); with `response`, the file types the
    route answers besides that JSON (`("application/json", "application/zip")`). `status`: one, or
    several that answer the same body (`(201, 200)`: created, or found already). `errors`: the codes of the `Code`
    catalogue the route itself can answer (the edge's and the session's are added). `examples`:
    `{name: {"request": body, "response": body}}` for the main flows."""
    unknown = [e for e in errors if not isinstance(e, Code)]
    if unknown:
        raise TypeError(f"errors must be Code members, not {unknown!r}")
    for name, example in (examples or {}).items():
        if not set(example) <= {"request", "response", "summary"}:
            raise TypeError(f"example {name!r} takes request, response and summary only")

    def mark(view: Callable[..., Any]) -> Callable[..., Any]:
        types = (content_type,) if isinstance(content_type, str) else content_type
        _DESCRIBED[view] = {"response": response, "status": status, "content_types": types, "schema": schema,
                            "errors": tuple(dict.fromkeys(errors)), "examples": dict(examples or {})}
        return view

    return mark


def dev_only(view: Callable[..., Any]) -> Callable[..., Any]:
    """Declare a route that answers in the dev stage only (its use case refuses elsewhere): the
    document of any other stage leaves it out."""
    _DEV_ONLY.add(view)
    return view


# ---------------------------------------------------------------- reading a view


def _resolve(node: ast.expr, namespace: dict[str, Any]) -> Any:
    if isinstance(node, ast.Name):
        return namespace.get(node.id)
    if isinstance(node, ast.Attribute):
        owner = _resolve(node.value, namespace)
        return getattr(owner, node.attr, None) if owner is not None else None
    return None


def _is_model(value: Any) -> bool:
    from pydantic import BaseModel

    return isinstance(value, type) and issubclass(value, BaseModel)


def read_view(view: Callable[..., Any], _depth: int = 0) -> dict[str, Any]:
    """What a view's source says: body and query models, whether it authenticates. A helper of
    the same module the view calls (`_transition(...)`) is read too, as if it were inlined."""
    found: dict[str, Any] = {"body": None, "query": None, "auth": None}
    helpers: list[Callable[..., Any]] = []
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(view)))
    except (OSError, TypeError, SyntaxError):
        return found
    namespace = {**getattr(view, "__globals__", {})}
    with contextlib.suppress(TypeError, ValueError):  # builtins and C functions have no closure
        namespace.update(inspect.getclosurevars(view).nonlocals)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        for calls, key in ((_BODY_CALLS, "body"), (_QUERY_CALLS, "query")):
            if name in calls and len(node.args) > calls[name]:
                model = _resolve(node.args[calls[name]], namespace)
                if _is_model(model) and found[key] is None:
                    found[key] = model
        if name == "require_user":
            found["auth"] = "required"
        elif name == "optional_user" and found["auth"] is None:
            found["auth"] = "optional"
        elif isinstance(node.func, ast.Name):
            helper = namespace.get(node.func.id)
            if inspect.isfunction(helper) and helper.__module__ == view.__module__ and helper is not view:
                helpers.append(helper)
    for helper in helpers if _depth < 2 else []:
        inner = read_view(helper, _depth + 1)
        for key in ("body", "query"):
            found[key] = found[key] or inner[key]
        if inner["auth"] == "required" or (inner["auth"] and found["auth"] is None):
            found["auth"] = inner["auth"]
    return found


# ---------------------------------------------------------------- the document


def _schemas(models: list[tuple[type[BaseModel], Mode]]) -> tuple[dict[Any, Any], dict[str, Any]]:
    from pydantic.json_schema import models_json_schema

    if not models:
        return {}, {}
    refs, top = models_json_schema(models, ref_template=REF)
    return refs, top.get("$defs", {})


def _ref_name(ref: dict[str, Any]) -> str:
    return str(ref["$ref"]).rsplit("/", 1)[-1]


def _query_parameters(schema: dict[str, Any]) -> list[dict[str, Any]]:
    required = set(schema.get("required", []))
    params = []
    for name, prop in schema.get("properties", {}).items():
        prop = dict(prop)
        description = prop.pop("description", None)
        param: dict[str, Any] = {"name": name, "in": "query", "required": name in required, "schema": prop}
        if description:
            param["description"] = description
        params.append(param)
    return params


def _operation_id(domain: str, view_name: str, method: str, taken: set[str]) -> str:
    op = f"{domain}.{view_name}"
    if op in taken:
        op = f"{op}.{method.lower()}"
    taken.add(op)
    return op


def build(app: Any, title: str = "CureConnect API", version: str = "1.0.0", *, stage: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every route of `app` in `stage` (CORS preflight routes left
    out, and `dev_only` routes outside the dev stage)."""
    entries = []
    for path, methods in sorted(app.routes.items()):
        for method, entry in sorted(methods.items()):
            if method == "OPTIONS":
                continue
            view = getattr(entry.view_function, "__wrapped__", entry.view_function)
            if view in _DEV_ONLY and stage != DEV_STAGE:
                continue
            entries.append((path, method, entry, view, read_view(view), _DESCRIBED.get(view)))

    wanted: list[tuple[type[BaseModel], Mode]] = []
    for *_, read, described in entries:
        wanted += [(m, "validation") for m in (read["body"], read["query"]) if m is not None]
        if described and described["response"] is not None:
            wanted.append((described["response"], "serialization"))
    refs, components = _schemas(list(dict.fromkeys(wanted)))

    paths: dict[str, dict[str, Any]] = {}
    taken: set[str] = set()
    for path, method, entry, view, read, described in entries:
        module = view.__module__.split(".")
        domain = module[1] if module[0] == "functions" and len(module) > 1 else "app"
        doc = inspect.getdoc(view) or ""
        summary, _, description = doc.partition("\n")
        operation: dict[str, Any] = {
            "operationId": _operation_id(domain, entry.view_name, method, taken),
            "tags": [domain],
            "summary": summary.strip() or entry.view_name.replace("_", " "),
        }
        if description.strip():
            operation["description"] = description.strip()
        params = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                  for name in re.findall(r"\{([^}]+)\}", path)]
        if read["query"] is not None:
            params += _query_parameters(components[_ref_name(refs[(read["query"], "validation")])])
        if params:
            operation["parameters"] = params
        examples = (described or {}).get("examples", {})
        if read["body"] is not None:
            model = read["body"]
            ref = refs[(model, "validation")]
            required = bool(components[_ref_name(ref)].get("required"))
            media: dict[str, Any] = {"schema": ref}
            requests = _examples(examples, "request")
            if requests:
                media["examples"] = requests
            operation["requestBody"] = {"required": required, "content": {"application/json": media}}
        if read["auth"] == "required":
            operation["security"] = [{"bearerAuth": []}, {"cookieAuth": []}]
        elif read["auth"] == "optional":
            operation["security"] = [{}, {"bearerAuth": []}, {"cookieAuth": []}]
        else:
            operation["security"] = []
        operation["responses"] = _responses(path, described, refs, read["auth"] is not None)
        codes = error_codes(described, read["auth"] is not None)
        if codes:
            operation["x-error-codes"] = codes
        paths.setdefault(path, {})[method.lower()] = operation

    components.update({"SuccessEnvelope": SUCCESS_ENVELOPE, "ErrorEnvelope": ERROR_ENVELOPE})
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": title, "version": version,
                 "description": "CureConnect telehealth API. Every JSON answer is an envelope: "
                                "`{success: true, ...}` or `{success: false, message, code, errors}`."},
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "cookieAuth": {"type": "apiKey", "in": "cookie", "name": "token"},
            },
        },
    }


def _examples(examples: dict[str, dict[str, Any]], side: str) -> dict[str, Any]:
    return {name: {"summary": example.get("summary", name), "value": example[side]}
            for name, example in examples.items() if side in example}


def error_codes(described: dict[str, Any] | None, authenticated: bool) -> list[str]:
    """The codes an operation can answer: its declared ones, the session's (when it authenticates)
    and the edge's; none (any code) when the route declares no errors."""
    declared = (described or {}).get("errors", ())
    if not declared:
        return []
    return [c.value for c in dict.fromkeys((*declared, *(AUTH_CODES if authenticated else ()), *EDGE_CODES))]


def _responses(path: str, described: dict[str, Any] | None, refs: dict[Any, Any],
               authenticated: bool = False) -> dict[str, Any]:
    envelope_ref = {"$ref": REF.format(model="ErrorEnvelope")}
    codes = error_codes(described, authenticated)
    error: dict[str, Any] = {"description": "Error envelope", "content": {"application/json": {"schema": envelope_ref}}}
    if codes:
        declared = [c.value for c in described["errors"]] if described else []
        error = {"description": "Error envelope; `code` is one of: " + ", ".join(f"`{c}`" for c in codes)
                 + ". The route's own: " + ", ".join(f"`{c}`" for c in declared) + ".",
                 "content": {"application/json": {"schema": {
                     "allOf": [envelope_ref, {"properties": {"code": {"enum": codes}}}]}}}}
    envelope = {"$ref": REF.format(model="SuccessEnvelope")}
    success: dict[str, Any] = {"description": "Success envelope", "content": {"application/json": {"schema": envelope}}}
    keys = ["2XX"]
    if described is not None:  # several statuses: the same answer (201 created, 200 found)
        status = described["status"]
        keys = [str(code) for code in (status if isinstance(status, tuple) else (status,))]
        if described["response"] is not None:  # and the files the route answers in other formats
            success["content"] = {"application/json": {"schema": refs[(described["response"], "serialization")]}}
            files = [t for t in described["content_types"] if t != "application/json"]
            success["content"].update({t: {"schema": {"type": "string", "format": "binary"}} for t in files})
            if files:
                success["description"] = "Success envelope, or " + ", ".join(files)
        elif described["schema"] is not None:
            success["content"] = {"application/json": {"schema": described["schema"]}}
        elif described["content_types"] != ("application/json",):
            success = {"description": ", ".join(described["content_types"]),
                       "content": {t: {"schema": {"type": "string"}} for t in described["content_types"]}}
    elif path.endswith("/pdf"):  # a document download (binary type of the API)
        success["content"]["application/pdf"] = {"schema": {"type": "string", "format": "binary"}}
    responses = _examples((described or {}).get("examples", {}), "response")
    if responses and "application/json" in success["content"]:
        success["content"]["application/json"]["examples"] = responses
    return {**dict.fromkeys(keys, success), "4XX": error, "5XX": error}
