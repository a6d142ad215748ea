"""The HTTP edge's names as the domains import them today (`from functions.core.http import
...`). Each lives in the module of its concern:

- `envelope`: JSON encoding and the success/error envelopes;
- `bodies`: the one parser of JSON, urlencoded and multipart bodies (`BodyRules` per route);
- `validation`: bodies and queries into pydantic models, field errors;
- `edge`: the error boundary (`Blueprint`), each route's edge rules, the app middleware;
- `samesite`: the same-site check, CORS headers and the preflight;
- `request_local`: the request per thread, its id, the caller's address;
- `paging`: the `pagination` object.

New code imports from those modules; this one re-exports until every caller has moved."""

from __future__ import annotations

from functions.core.bodies import FORM, JSON, MAX_JSON_DEPTH, MULTIPART
from functions.core.edge import (
    DEFAULT_RULES,
    SECURITY_HEADERS,
    Blueprint,
    EdgeRules,
    check_body_type,
    edge_middleware,
    edge_rules,
)
from functions.core.envelope import (
    JSON_HEADERS,
    app_error_response,
    error_body,
    error_response,
    iso_utc,
    respond,
    to_json,
)
from functions.core.paging import pagination
from functions.core.request_local import source_ip
from functions.core.samesite import (
    CORS_ALLOW_HEADERS,
    SameSite,
    check_same_site,
    cors_headers,
    install_preflight,
    serialized_origin,
)
from functions.core.validation import (
    field_errors,
    first_error_message,
    media_type,
    parse_body,
    parse_model,
    parse_query,
    read_body,
)

__all__ = [
    "CORS_ALLOW_HEADERS", "DEFAULT_RULES", "FORM", "JSON", "JSON_HEADERS", "MAX_JSON_DEPTH", "MULTIPART",
    "SECURITY_HEADERS", "Blueprint", "EdgeRules", "SameSite", "app_error_response", "check_body_type",
    "check_same_site", "cors_headers", "edge_middleware", "edge_rules", "error_body", "error_response",
    "field_errors", "first_error_message", "install_preflight", "iso_utc", "media_type", "pagination",
    "parse_body", "parse_model", "parse_query", "read_body", "respond",
    "serialized_origin", "source_ip", "to_json",
]
