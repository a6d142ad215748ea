"""Routes of claiming a contact an unverified account holds (issue 21 item 4; the use cases are
`claims`): ask for a code sent to the contact, then sign up with it."""

from __future__ import annotations

from chalice.app import Response

from functions.auth import claims, schemas
from functions.auth.blueprint import bp
from functions.auth.routes_accounts import session_answer
from functions.core.envelope import respond
from functions.core.request_local import source_ip
from functions.core.samesite import SameSite
from functions.core.validation import parse_body


@bp.route("/contact/claim", methods=["POST"], same_site=SameSite.ALWAYS)
def claim_contact() -> Response:
    request = bp.current_request
    return respond(**claims.ask(parse_body(request, schemas.ClaimIn), source_ip(request)))


@bp.route("/contact/claim/confirm", methods=["POST"], same_site=SameSite.ALWAYS)
def confirm_claim() -> Response:
    """Signs the claimer up: answers like /register (201, `user`, the `token` cookie)."""
    user, token = claims.confirm(parse_body(bp.current_request, schemas.ClaimConfirmIn))
    return session_answer(201, user, token)
