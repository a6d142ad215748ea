"""Routes of claiming a contact an unverified account holds (issue 21 item 4; the use cases are
`claims`): ask for a code sent to the contact, then sign up with it."""

from __future__ import annotations

from chalice.app import Response

from functions.auth import claims, out_schemas, schemas
from functions.auth.blueprint import bp
from functions.auth.routes_accounts import session_answer
from functions.core.envelope import respond
from functions.core.errors import Code
from functions.core.openapi import describe
from functions.core.request_local import source_ip
from functions.core.samesite import SameSite
from functions.core.validation import parse_body


@bp.route("/contact/claim", methods=["POST"], same_site=SameSite.ALWAYS)
@describe(response=out_schemas.CodeSentAnswer,
          errors=(Code.NOTHING_TO_CLAIM, Code.CONTACT_TAKEN, Code.INVALID_CONTACT, Code.TOO_MANY_CODES))
def claim_contact() -> Response:
    """Send a code to a contact that an unverified account holds, to claim it."""
    request = bp.current_request
    return respond(**claims.ask(parse_body(request, schemas.ClaimIn), source_ip(request)))


@bp.route("/contact/claim/confirm", methods=["POST"], same_site=SameSite.ALWAYS)
@describe(response=out_schemas.SessionAnswer, status=201,
          errors=(Code.INVALID_CODE, Code.NOTHING_TO_CLAIM, Code.CONTACT_TAKEN, Code.INVALID_CONTACT,
                  Code.ROLE_NOT_ALLOWED, Code.FIELD_NOT_ALLOWED, Code.WEAK_PASSWORD))
def confirm_claim() -> Response:
    """Sign up with a claimed contact and the code sent to it (answers like /register).

    201, `user` with the contact verified, and the `token` cookie; the account that held the
    contact without proving it loses it and is deactivated."""
    user, token = claims.confirm(parse_body(bp.current_request, schemas.ClaimConfirmIn))
    return session_answer(201, user, token)
