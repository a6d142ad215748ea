"""GET /api/v1/health (public)."""

from chalice.app import Response

from functions.core.edge import Blueprint
from functions.core.envelope import error_response, respond
from functions.core.errors import DatabaseUnavailable
from functions.health import service

bp = Blueprint(__name__)


@bp.route("/health", methods=["GET"])
def health() -> Response:
    healthy, status = service.check()
    if healthy:
        return respond(**status)
    away = DatabaseUnavailable()
    return error_response(away.status, away.code, away.message, headers=away.headers, **status)
