"""HTTP route of media analysis (thin handler only)."""

from typing import Any

from chalice.app import Response

from functions.analysis import service
from functions.analysis.schemas import AnalyzeIn
from functions.core.http import Blueprint, parse_body, respond
from functions.core.security import require_user

bp = Blueprint(__name__)


def _headers() -> Any:
    request = bp.current_request
    return request.headers if request is not None else {}


@bp.route("/analyze", methods=["POST"])
def analyze() -> Response:
    user = require_user(_headers())
    body = parse_body(bp.current_request, AnalyzeIn)
    return respond(**service.analyze(user, body))
