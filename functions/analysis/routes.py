"""HTTP route of media analysis (thin handler only)."""

from chalice.app import Response

from functions.analysis import service
from functions.analysis.schemas import AnalysisAnswer, AnalyzeIn
from functions.core.edge import Blueprint
from functions.core.envelope import respond
from functions.core.errors import Code
from functions.core.openapi import describe
from functions.core.request_local import source_ip
from functions.core.security import require_user
from functions.core.validation import parse_body

bp = Blueprint(__name__)
_headers = bp.request_headers


@bp.route("/analyze", methods=["POST"])
@describe(response=AnalysisAnswer, errors=(Code.ANALYSIS_NOT_CONFIGURED, Code.ANALYSIS_PROVIDER_ERROR,
          Code.ANALYSIS_RATE_LIMITED, Code.ASSET_INVALID, Code.VALIDATION_FAILED))
def analyze() -> Response:
    """Analyse an uploaded image or video with the AI provider; the result joins the caller's medical history."""
    principal = require_user(_headers())
    request = bp.current_request
    assert request is not None
    body = parse_body(request, AnalyzeIn)
    return respond(**service.analyze(principal, body, source_ip(request)))
