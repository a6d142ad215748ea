"""GET /api/v1/openapi.json, GET /api/v1/docs and the docs page's files (public, no database)."""

from chalice.app import Response

from functions.core.edge import Blueprint
from functions.core.errors import Code
from functions.core.openapi import describe
from functions.docs import service

bp = Blueprint(__name__)
CACHE = {"Cache-Control": "public, max-age=300"}


@bp.route("/openapi.json", methods=["GET"])
@describe(schema={"type": "object", "required": ["openapi", "info", "paths"]}, errors=(Code.INTERNAL,))
def openapi_json() -> Response:
    """The OpenAPI 3.1 description of this API."""
    return Response(body=service.spec_json(), status_code=200,
                    headers={"Content-Type": "application/json", **CACHE})


@bp.route("/docs", methods=["GET"])
@describe(content_type="text/html; charset=utf-8", errors=(Code.INTERNAL,))
def docs_page() -> Response:
    """Interactive API documentation (Swagger UI, served from this API)."""
    return Response(body=service.PAGE, status_code=200,
                    headers={"Content-Type": "text/html; charset=utf-8",
                             "Content-Security-Policy": service.PAGE_CSP, **CACHE})


@bp.route("/docs/{name}", methods=["GET"])
@describe(content_type=("text/css; charset=utf-8", "application/javascript; charset=utf-8"),
          errors=(Code.NOT_FOUND,))
def docs_file(name: str) -> Response:
    """A file of the documentation page (Swagger UI's script and style)."""
    text, content_type = service.asset(name)
    return Response(body=text, status_code=200,
                    headers={"Content-Type": content_type, "Cache-Control": "public, max-age=86400"})
