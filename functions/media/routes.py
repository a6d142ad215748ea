"""HTTP routes of uploads (thin handlers only)."""

from typing import Any

from chalice.app import Response

from functions.core.http import Blueprint, parse_body, respond
from functions.core.security import require_user
from functions.media import service
from functions.media.schemas import SignIn

bp = Blueprint(__name__)


def _headers() -> Any:
    request = bp.current_request
    return request.headers if request is not None else {}


@bp.route("/uploads/sign", methods=["POST"])
def sign_upload() -> Response:
    # Accounts awaiting approval upload too (a pharmacist's licence comes before approval).
    user = require_user(_headers(), approved=False)
    body = parse_body(bp.current_request, SignIn)
    return respond(**service.sign_upload(user, body))


@bp.route("/uploads/notify", methods=["POST"], content_types=["application/json"])
def cloudinary_notification() -> Response:
    request = bp.current_request
    assert request is not None
    headers = request.headers
    return respond(**service.handle_notification(request.raw_body, headers.get("x-cld-timestamp"),
                                                 headers.get("x-cld-signature")))
