"""Routes of accounts and sessions: sign-up, login, logout, the caller's profile, password
change and access log."""

from __future__ import annotations

from typing import Any

from chalice.app import Response

from functions.auth import accounts, out_schemas, schemas, sessions
from functions.auth.blueprint import bp, headers
from functions.auth.mfa import Challenge
from functions.auth.out_schemas import EXAMPLES
from functions.core.bodies import FORM, JSON, MULTIPART
from functions.core.envelope import respond
from functions.core.errors import AppError, Code
from functions.core.openapi import describe
from functions.core.paging import pagination
from functions.core.request_local import source_ip
from functions.core.samesite import SameSite
from functions.core.schemas import MessageAnswer, PageQuery
from functions.core.security import clear_cookie, optional_user, require_user, session_cookie
from functions.core.validation import parse_body, parse_query


def session_answer(status: int, user: dict[str, Any], token: str) -> Response:
    """The token travels in the HttpOnly cookie and, for API clients, in the body."""
    return respond(status, headers={"Set-Cookie": session_cookie(token)}, user=user, token=token)


# Signing up, in and out are checked for a foreign page even without a cookie (core.samesite.SameSite).
@bp.route("/register", methods=["POST"], body_types=(JSON, FORM, MULTIPART),  # the sign-up form posts multipart
          same_site=SameSite.ALWAYS)
@describe(response=out_schemas.SessionAnswer, status=201,
          errors=(Code.CONTACT_TAKEN, Code.CONTACT_CLAIMABLE, Code.INVALID_CONTACT, Code.ROLE_NOT_ALLOWED,
                  Code.FIELD_NOT_ALLOWED, Code.WEAK_PASSWORD, Code.ASSET_INVALID),
          examples=EXAMPLES["register"])
def register() -> Response:
    """Sign up (patient, doctor or pharmacist) and start a session."""
    request = bp.current_request
    user, token = accounts.register(parse_body(request, schemas.RegisterIn), source_ip(request))
    return session_answer(201, user, token)


@bp.route("/login", methods=["POST"], same_site=SameSite.ALWAYS)
@describe(response=out_schemas.LoginAnswer,
          errors=(Code.INVALID_CREDENTIALS, Code.ACCOUNT_INACTIVE, Code.LOGIN_LOCKED, Code.INVALID_CONTACT),
          examples=EXAMPLES["login"])
def login() -> Response:
    """Sign in with a contact and password; the token comes as a cookie and in the body.

    A failed login also removes the session cookie the browser sent: a stale one never
    stands in the way of signing in again. With a second factor the answer is `{mfaRequired,
    mfaToken}` and no cookie (then `POST /login/mfa`)."""
    request = bp.current_request
    try:
        outcome = sessions.login(parse_body(request, schemas.LoginIn), source_ip(request))
    except AppError as exc:
        exc.headers.setdefault("Set-Cookie", clear_cookie())
        raise
    if isinstance(outcome, Challenge):  # a second factor is asked: no session, no cookie yet
        return respond(200, mfaRequired=True, mfaToken=outcome.mfa_token)
    user, token = outcome
    return session_answer(200, user, token)


@bp.route("/logout", methods=["GET", "POST"], same_site=SameSite.ALWAYS)
@describe(response=MessageAnswer, errors=(Code.INVALID_TOKEN,))
def logout() -> Response:
    """Sign out: end this session and remove its cookie."""
    sessions.logout(optional_user(headers()))
    return respond(200, headers={"Set-Cookie": clear_cookie()}, message="Logged Out")


@bp.route("/me", methods=["GET"])
@describe(response=out_schemas.UserAnswer, errors=(Code.NOT_FOUND,))
def me() -> Response:
    """The signed-in user's own profile."""
    return respond(user=accounts.profile(require_user(headers(), approved=False)))


@bp.route("/me", methods=["PUT"])
@describe(response=out_schemas.UserAnswer,
          errors=(Code.FIELD_NOT_ALLOWED, Code.NOTHING_TO_UPDATE, Code.ASSET_INVALID, Code.NOT_FOUND))
def update_me() -> Response:
    """Change the signed-in user's profile (name, avatar; a doctor's profile fields)."""
    principal = require_user(headers(), approved=False)
    return respond(user=accounts.update_me(principal, parse_body(bp.current_request, schemas.UpdateMeIn)))


@bp.route("/password/update", methods=["PUT"])
@describe(response=out_schemas.SessionAnswer,
          errors=(Code.WRONG_PASSWORD, Code.SAME_PASSWORD, Code.WEAK_PASSWORD, Code.PASSWORD_CHANGED,
                  Code.LOGIN_LOCKED))
def update_password() -> Response:
    """Change the password: other sessions end, this one gets a new token."""
    principal = require_user(headers(), approved=False)
    request = bp.current_request
    user, token = sessions.update_password(principal, parse_body(request, schemas.PasswordUpdateIn),
                                           source_ip(request))
    return session_answer(200, user, token)


@bp.route("/me/access-log", methods=["GET"])
@describe(response=out_schemas.AccessLogAnswer, errors=(Code.NOT_FOUND,))
def access_log() -> Response:
    """Who read or changed the signed-in user's data, newest first."""
    principal = require_user(headers(), approved=False)
    query = parse_query(bp.current_request, PageQuery)
    entries, total = accounts.access_log(principal, query)
    return respond(entries=entries, pagination=pagination(total, query.page, query.limit))
