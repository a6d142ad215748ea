"""GET /api/v1/health (public)."""

from chalice.app import Response

from functions.core.edge import Blueprint
from functions.core.envelope import error_response, respond
from functions.core.errors import Code, DatabaseUnavailable
from functions.core.openapi import describe
from functions.health import service
from functions.health.schemas import HealthAnswer

bp = Blueprint(__name__)


@bp.route("/health", methods=["GET"])
@describe(response=HealthAnswer, errors=(Code.DB_UNAVAILABLE,),
          examples={"healthy": {"response": {"success": True, "version": "1.4.0", "db": "ok"}}})
def health() -> Response:
    """Whether the API and its database answer (public; 503 when the database does not)."""
    healthy, status = service.check()
    if healthy:
        return respond(**status)
    away = DatabaseUnavailable()
    return error_response(away.status, away.code, away.message, headers=away.headers, **status)
