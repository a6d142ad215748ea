"""HTTP route of media analysis (thin handler only)."""

from typing import Any

from chalice.app import Response

from functions.analysis import service
from functions.analysis.schemas import AnalyzeIn
from functions.core.edge import Blueprint
from functions.core.envelope import respond
from functions.core.request_local import source_ip
from functions.core.security import require_user
from functions.core.validation import parse_body

bp = Blueprint(__name__)


def _headers() -> Any:
    request = bp.current_request
    return request.headers if request is not None else {}


@bp.route("/analyze", methods=["POST"])
def analyze() -> Response:
    """Analyse an uploaded medical image with the AI model (rate-limited)."""
    principal = require_user(_headers())
    request = bp.current_request
    assert request is not None
    body = parse_body(request, AnalyzeIn)
    return respond(**service.analyze(principal, body, source_ip(request)))
