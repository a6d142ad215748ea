"""Routes of contact verification (by code, and by the link sent at sign-up) and account
recovery (a code to reset the password)."""

from __future__ import annotations

from chalice.app import Response

from functions.auth import contact_link, out_schemas, pages, recovery, schemas
from functions.auth.blueprint import bp, headers
from functions.core.bodies import FORM, JSON
from functions.core.config import get_settings
from functions.core.envelope import respond
from functions.core.errors import Code
from functions.core.openapi import describe
from functions.core.request_local import source_ip
from functions.core.samesite import SameSite
from functions.core.schemas import MessageAnswer
from functions.core.security import require_user
from functions.core.validation import parse_body


@bp.route("/verify/contact/send", methods=["POST"])
@describe(response=out_schemas.CodeSentAnswer,
          errors=(Code.ALREADY_VERIFIED, Code.TOO_MANY_CODES, Code.INVALID_CONTACT))
def send_contact_code() -> Response:
    """Send a code that verifies the signed-in user's contact."""
    principal = require_user(headers(), approved=False)
    return respond(**recovery.send_contact_code(principal, source_ip(bp.current_request)))


@bp.route("/verify/contact/confirm", methods=["POST"])
@describe(response=out_schemas.UserAnswer, errors=(Code.INVALID_CODE, Code.ALREADY_VERIFIED))
def confirm_contact() -> Response:
    """Verify the signed-in user's contact with the code sent to it."""
    principal = require_user(headers(), approved=False)
    return respond(user=recovery.confirm_contact(principal, parse_body(bp.current_request, schemas.VerifyConfirmIn)))


@bp.route("/verify/contact/link/{token}", methods=["GET"], same_site=SameSite.EXEMPT, html_errors=True)
@describe(content_type="text/html", errors=(Code.NOT_FOUND,))
def contact_link_page(token: str) -> Response:
    """The page a contact verification link opens.

    The page a verification link opens: a button that verifies the contact. Opening it
    changes nothing (mail scanners open links); a link that is not live is a 404."""
    contact_link.check(token)
    return pages.confirm_contact()


@bp.route("/verify/contact/link/{token}", methods=["POST"], body_types=(FORM, JSON), same_site=SameSite.EXEMPT,
          html_errors=True)
@describe(status=303, content_type="text/html", errors=(Code.NOT_FOUND,))
def contact_link_confirm(token: str) -> Response:
    """Verify a contact from its link's page, then go to the account page.

    The page's button: verify the contact, use the link up, and go on to the frontend's
    account page (303). Authenticated by the link itself, so no cookie or same-site check."""
    contact_link.use(token)
    return Response(body="", status_code=303, headers={"Location": get_settings().app_url("account")})


@bp.route("/password/forgot", methods=["POST"])
@describe(response=MessageAnswer, errors=(Code.TOO_MANY_CODES, Code.INVALID_CONTACT))
def forgot_password() -> Response:
    """Ask for a code that resets a forgotten password."""
    request = bp.current_request
    return respond(**recovery.forgot_password(parse_body(request, schemas.ForgotPasswordIn), source_ip(request)))


@bp.route("/password/reset", methods=["POST"])
@describe(response=MessageAnswer, errors=(Code.INVALID_CODE, Code.WEAK_PASSWORD, Code.INVALID_CONTACT))
def reset_password() -> Response:
    """Set a new password with the code; every session ends."""
    request = bp.current_request
    return respond(**recovery.reset_password(parse_body(request, schemas.ResetPasswordIn), source_ip(request)))
