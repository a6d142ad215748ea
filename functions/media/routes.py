"""HTTP routes of uploads (thin handlers only)."""

from chalice.app import Response

from functions.core.edge import Blueprint
from functions.core.envelope import respond
from functions.core.errors import Code
from functions.core.openapi import describe
from functions.core.security import require_user
from functions.core.validation import parse_body
from functions.media import notifications, signing
from functions.media.schemas import NotificationAnswer, SignedUploadAnswer, SignIn

bp = Blueprint(__name__)
_headers = bp.request_headers


@bp.route("/uploads/sign", methods=["POST"])
@describe(response=SignedUploadAnswer, errors=(Code.UPLOADS_NOT_CONFIGURED, Code.VALIDATION_FAILED))
def sign_upload() -> Response:
    """Sign a direct upload to Cloudinary for one purpose the caller's role may upload (avatar, licence...)."""
    # Accounts awaiting approval upload too (a pharmacist's licence comes before approval).
    user = require_user(_headers(), approved=False)
    body = parse_body(bp.current_request, SignIn)
    return respond(**signing.sign_upload(user, body))


@bp.route("/uploads/notify", methods=["POST"], content_types=["application/json"])
@describe(response=NotificationAnswer, errors=(Code.BAD_SIGNATURE, Code.MALFORMED_JSON, Code.UPLOADS_NOT_CONFIGURED))
def cloudinary_notification() -> Response:
    """Cloudinary's signed notification of an upload or a deletion: the upload's record follows it."""
    request = bp.current_request
    assert request is not None
    headers = request.headers
    return respond(**notifications.handle_notification(request.raw_body, headers.get("x-cld-timestamp"),
                                                 headers.get("x-cld-signature")))
