"""Routes of two-factor sign-in: enrolment (`/mfa/totp/setup`, `/mfa/totp/confirm`), turning it
off (`DELETE /mfa/totp`) and the second step of a login (`/login/mfa`); the use cases are `mfa`.
The admin's reset (`DELETE /admin/user/{id}/mfa`) is in `routes_admin`."""

from __future__ import annotations

from chalice.app import Response

from functions.auth import mfa, out_schemas, schemas
from functions.auth.blueprint import bp, headers
from functions.auth.routes_accounts import session_answer
from functions.core.envelope import respond
from functions.core.errors import AppError, Code
from functions.core.openapi import describe
from functions.core.request_local import source_ip
from functions.core.samesite import SameSite
from functions.core.schemas import MessageAnswer
from functions.core.security import clear_cookie, require_user
from functions.core.validation import parse_body


@bp.route("/mfa/totp/setup", methods=["POST"])
@describe(response=out_schemas.MfaSetupAnswer, errors=(Code.MFA_ALREADY_ENABLED, Code.MFA_ENROLMENT_REQUIRED))
def mfa_setup() -> Response:
    """Start enrolling an authenticator app: a new secret and its otpauth:// URI"""
    principal = require_user(headers(), approved=False, enrolment=True)
    secret, uri = mfa.setup(principal)
    return respond(secret=secret, uri=uri)


@bp.route("/mfa/totp/confirm", methods=["POST"])
@describe(response=out_schemas.MfaConfirmAnswer, errors=(Code.INVALID_CODE, Code.MFA_SETUP_MISSING,
                                                  Code.MFA_ALREADY_ENABLED, Code.MFA_LOCKED))
def mfa_confirm() -> Response:
    """Turn two-factor sign-in on with a first code; the recovery codes are shown this once"""
    principal = require_user(headers(), approved=False, enrolment=True)
    request = bp.current_request
    codes = mfa.confirm(principal, parse_body(request, schemas.MfaCodeIn), source_ip(request))
    return respond(recoveryCodes=codes)


@bp.route("/mfa/totp", methods=["DELETE"])
@describe(response=MessageAnswer, errors=(Code.MFA_REQUIRED_FOR_ROLE, Code.MFA_NOT_ENABLED,
                                               Code.WRONG_PASSWORD, Code.INVALID_CODE, Code.MFA_LOCKED))
def mfa_disable() -> Response:
    """Turn two-factor sign-in off (password and a current code; not where the role requires it)"""
    principal = require_user(headers(), approved=False)
    request = bp.current_request
    mfa.disable(principal, parse_body(request, schemas.MfaDisableIn), source_ip(request))
    return respond(message="Two-factor sign-in is off")


@bp.route("/login/mfa", methods=["POST"], same_site=SameSite.ALWAYS)
@describe(response=out_schemas.SessionAnswer, errors=(Code.MFA_TOKEN_INVALID, Code.INVALID_CODE, Code.MFA_LOCKED))
def login_mfa() -> Response:
    """Second step of a login: the mfaToken and a code (or a recovery code) give the session."""
    request = bp.current_request
    try:
        user, token = mfa.second_step(parse_body(request, schemas.MfaLoginIn), source_ip(request))
    except AppError as exc:
        exc.headers.setdefault("Set-Cookie", clear_cookie())
        raise
    return session_answer(200, user, token)
