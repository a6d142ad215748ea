"""Builds a configured Chalice app: used by `app.py` (everything) and by each domain's
`handler.py` (one blueprint, for per-route Lambdas), so both behave the same."""

from __future__ import annotations

from collections.abc import Iterable

from chalice.app import Chalice

from functions.core import observability
from functions.core.edge import Blueprint, EdgeRestHandler, edge_middleware
from functions.core.request_local import per_thread_requests
from functions.core.samesite import install_preflight

API_PREFIX = "/api/v1"


def create_app(name: str, blueprints: Iterable[Blueprint]) -> Chalice:
    app = Chalice(app_name=name)
    per_thread_requests(app, EdgeRestHandler)
    app.api.binary_types.append("application/pdf")
    # The data export's archive (`GET /me/export?format=zip`). Chalice's defaults list it today;
    # named here so that the API's binary media types keep it whatever those defaults become.
    if "application/zip" not in app.api.binary_types:
        app.api.binary_types.append("application/zip")
    # Form uploads carry image bytes (pharmacy avatars, medicine images): API Gateway must pass
    # them base64-encoded, or it would re-encode the body as UTF-8 text and corrupt the files.
    app.api.binary_types.append("multipart/form-data")
    observability.configure(app)
    app.register_middleware(edge_middleware(app), "http")
    for blueprint in blueprints:
        app.register_blueprint(blueprint, url_prefix=API_PREFIX)
    install_preflight(app)
    return app
