"""Routes of contact verification (by code, and by the link sent at sign-up) and account
recovery (a code to reset the password)."""

from __future__ import annotations

from chalice.app import Response

from functions.auth import contact_link, pages, recovery, schemas
from functions.auth.blueprint import bp, headers
from functions.core.bodies import FORM, JSON
from functions.core.config import get_settings
from functions.core.envelope import respond
from functions.core.openapi import describe
from functions.core.request_local import source_ip
from functions.core.samesite import SameSite
from functions.core.security import require_user
from functions.core.validation import parse_body


@bp.route("/verify/contact/send", methods=["POST"])
def send_contact_code() -> Response:
    principal = require_user(headers(), approved=False)
    return respond(**recovery.send_contact_code(principal, source_ip(bp.current_request)))


@bp.route("/verify/contact/confirm", methods=["POST"])
def confirm_contact() -> Response:
    principal = require_user(headers(), approved=False)
    return respond(user=recovery.confirm_contact(principal, parse_body(bp.current_request, schemas.VerifyConfirmIn)))


@bp.route("/verify/contact/link/{token}", methods=["GET"], same_site=SameSite.EXEMPT, html_errors=True)
@describe(content_type="text/html")
def contact_link_page(token: str) -> Response:
    """The page a verification link opens: a button that verifies the contact. Opening it
    changes nothing (mail scanners open links); a link that is not live is a 404."""
    contact_link.check(token)
    return pages.confirm_contact()


@bp.route("/verify/contact/link/{token}", methods=["POST"], body_types=(FORM, JSON), same_site=SameSite.EXEMPT,
          html_errors=True)
@describe(status=303, content_type="text/html")
def contact_link_confirm(token: str) -> Response:
    """The page's button: verify the contact, use the link up, and go on to the frontend's
    account page (303). Authenticated by the link itself, so no cookie or same-site check."""
    contact_link.use(token)
    return Response(body="", status_code=303, headers={"Location": get_settings().app_url("account")})


@bp.route("/password/forgot", methods=["POST"])
def forgot_password() -> Response:
    request = bp.current_request
    return respond(**recovery.forgot_password(parse_body(request, schemas.ForgotPasswordIn), source_ip(request)))


@bp.route("/password/reset", methods=["POST"])
def reset_password() -> Response:
    request = bp.current_request
    return respond(**recovery.reset_password(parse_body(request, schemas.ResetPasswordIn), source_ip(request)))
