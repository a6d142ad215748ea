"""HTTP routes of accounts, sessions, the doctor directory, medical history (and the patient
record `/patient/:id/complete-data`) and user user_management (`/admin/user...`).
Thin handlers: authenticate, validate, call one use case, answer."""

from __future__ import annotations

from typing import Any

from chalice.app import Response

from functions.auth import (
    accounts,
    contact_link,
    directory,
    pages,
    records,
    recovery,
    schemas,
    sessions,
    user_management,
)
from functions.core.config import get_settings
from functions.core.errors import AppError
from functions.core.http import (
    FORM,
    JSON,
    MULTIPART,
    Blueprint,
    SameSite,
    pagination,
    parse_body,
    parse_query,
    respond,
    source_ip,
)
from functions.core.openapi import describe
from functions.core.schemas import PageQuery
from functions.core.security import ADMIN, PATIENT, clear_cookie, optional_user, require_user, session_cookie

bp = Blueprint(__name__)


def _headers() -> Any:
    return bp.current_request.headers


def _session(status: int, user: dict[str, Any], token: str) -> Response:
    """The token travels in the HttpOnly cookie and, for API clients, in the body."""
    return respond(status, headers={"Set-Cookie": session_cookie(token)}, user=user, token=token)


# ---------------------------------------------------------------- accounts and sessions


# Signing up, in and out are checked for a foreign page even without a cookie (core.http.SameSite).
@bp.route("/register", methods=["POST"], body_types=(JSON, FORM, MULTIPART),  # the sign-up form posts multipart
          same_site=SameSite.ALWAYS)
def register() -> Response:
    request = bp.current_request
    user, token = accounts.register(parse_body(request, schemas.RegisterBody), source_ip(request))
    return _session(201, user, token)


@bp.route("/login", methods=["POST"], same_site=SameSite.ALWAYS)
def login() -> Response:
    """A failed login also removes the session cookie the browser sent: a stale one never
    stands in the way of signing in again."""
    request = bp.current_request
    try:
        user, token = sessions.login(parse_body(request, schemas.LoginBody), source_ip(request))
    except AppError as exc:
        exc.headers.setdefault("Set-Cookie", clear_cookie())
        raise
    return _session(200, user, token)


@bp.route("/logout", methods=["GET", "POST"], same_site=SameSite.ALWAYS)
def logout() -> Response:
    sessions.logout(optional_user(_headers()))
    return respond(200, headers={"Set-Cookie": clear_cookie()}, message="Logged Out")


@bp.route("/me", methods=["GET"])
def me() -> Response:
    return respond(user=accounts.profile(require_user(_headers(), approved=False)))


@bp.route("/me", methods=["PUT"])
def update_me() -> Response:
    principal = require_user(_headers(), approved=False)
    return respond(user=accounts.update_me(principal, parse_body(bp.current_request, schemas.UpdateMeBody)))


@bp.route("/password/update", methods=["PUT"])
def update_password() -> Response:
    principal = require_user(_headers(), approved=False)
    request = bp.current_request
    user, token = sessions.update_password(principal, parse_body(request, schemas.PasswordUpdateBody),
                                          source_ip(request))
    return _session(200, user, token)


@bp.route("/me/access-log", methods=["GET"])
def access_log() -> Response:
    principal = require_user(_headers(), approved=False)
    query = parse_query(bp.current_request, PageQuery)
    entries, total = accounts.access_log(principal, query)
    return respond(entries=entries, pagination=pagination(total, query.page, query.limit))


# ---------------------------------------------------------------- contact verification and recovery


@bp.route("/verify/contact/send", methods=["POST"])
def send_contact_code() -> Response:
    return respond(**recovery.send_contact_code(require_user(_headers(), approved=False)))


@bp.route("/verify/contact/confirm", methods=["POST"])
def confirm_contact() -> Response:
    principal = require_user(_headers(), approved=False)
    return respond(user=recovery.confirm_contact(principal, parse_body(bp.current_request, schemas.VerifyConfirmBody)))


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
    return respond(**recovery.forgot_password(parse_body(request, schemas.ForgotPasswordBody), source_ip(request)))


@bp.route("/password/reset", methods=["POST"])
def reset_password() -> Response:
    request = bp.current_request
    return respond(**recovery.reset_password(parse_body(request, schemas.ResetPasswordBody), source_ip(request)))


# ---------------------------------------------------------------- doctor directory (public)


@bp.route("/doctors", methods=["GET"])
def doctors() -> Response:
    query = parse_query(bp.current_request, schemas.DoctorsQuery)
    items, total, page, limit = directory.list_doctors(query)
    return respond(count=len(items), doctors=items, pagination=pagination(total, page, limit))


@bp.route("/doctor/{doctor_id}", methods=["GET"])
def doctor(doctor_id: str) -> Response:
    return respond(doctor=directory.get_doctor(doctor_id))


# ---------------------------------------------------------------- medical history


@bp.route("/medical-history", methods=["POST"])
def add_medical_history() -> Response:
    principal = require_user(_headers(), roles=(PATIENT,))
    entry, history = records.add_history(principal, parse_body(bp.current_request, schemas.MedicalHistoryBody))
    return respond(201, message="Medical history added", entry=entry, medicalHistory=history)


@bp.route("/medical-history/{user_id}", methods=["GET"])
def medical_history(user_id: str) -> Response:
    principal = require_user(_headers(), approved=False)
    return respond(medicalHistory=records.get_history(principal, user_id))


@bp.route("/patient/{patient_id}/complete-data", methods=["GET"])
def patient_record(patient_id: str) -> Response:
    principal = require_user(_headers(), approved=False)
    return respond(data=records.patient_record(principal, patient_id))


# ---------------------------------------------------------------- user user_management


@bp.route("/admin/users", methods=["GET"])
def admin_users() -> Response:
    admin = require_user(_headers(), roles=(ADMIN,))
    query = parse_query(bp.current_request, schemas.UsersQuery)
    users, total = user_management.list_users(admin, query)
    return respond(count=len(users), users=users, pagination=pagination(total, query.page, query.limit))


@bp.route("/admin/user/{user_id}", methods=["GET"])
def admin_user(user_id: str) -> Response:
    admin = require_user(_headers(), roles=(ADMIN,))
    return respond(user=user_management.get_user(admin, user_id))


@bp.route("/admin/user/{user_id}/approval", methods=["PUT"])
def admin_approval(user_id: str) -> Response:
    admin = require_user(_headers(), roles=(ADMIN,))
    body = parse_body(bp.current_request, schemas.ApprovalBody)
    return respond(user=user_management.set_approval(admin, user_id, body))


@bp.route("/admin/user/{user_id}/active", methods=["PUT"])
def admin_active(user_id: str) -> Response:
    admin = require_user(_headers(), roles=(ADMIN,))
    return respond(user=user_management.set_active(admin, user_id, parse_body(bp.current_request, schemas.ActiveBody)))
