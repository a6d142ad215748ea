"""Routes of user management by the admin role (`/admin/users`, `/admin/user/...`, its approval,
active flag, contact, second factor and restore); the use cases are `user_management`, `mfa`, `closing`."""

from __future__ import annotations

from chalice.app import Response

from functions.auth import closing, mfa, out_schemas, schemas, user_management
from functions.auth.blueprint import bp, headers
from functions.core.envelope import respond
from functions.core.errors import Code
from functions.core.openapi import describe
from functions.core.paging import pagination
from functions.core.security import ADMIN, require_user
from functions.core.validation import parse_body, parse_query


@bp.route("/admin/users", methods=["GET"])
@describe(response=out_schemas.UsersAnswer, errors=(Code.NOT_FOUND,))
def admin_users() -> Response:
    """List user accounts, by role and approval status (admin)."""
    admin = require_user(headers(), roles=(ADMIN,))
    query = parse_query(bp.current_request, schemas.UsersQuery)
    users, total = user_management.list_users(admin, query)
    return respond(count=len(users), users=users, pagination=pagination(total, query.page, query.limit))


@bp.route("/admin/user/{user_id}", methods=["GET"])
@describe(response=out_schemas.UserAnswer, errors=(Code.NOT_FOUND,))
def admin_user(user_id: str) -> Response:
    """One user account (admin)."""
    admin = require_user(headers(), roles=(ADMIN,))
    return respond(user=user_management.get_user(admin, user_id))


@bp.route("/admin/user/{user_id}/approval", methods=["PUT"])
@describe(response=out_schemas.UserAnswer, errors=(Code.NOT_FOUND, Code.NOT_APPROVABLE))
def admin_approval(user_id: str) -> Response:
    """Approve or reject a doctor's or pharmacist's account (admin)."""
    admin = require_user(headers(), roles=(ADMIN,))
    body = parse_body(bp.current_request, schemas.ApprovalIn)
    return respond(user=user_management.set_approval(admin, user_id, body))


@bp.route("/admin/user/{user_id}/active", methods=["PUT"])
@describe(response=out_schemas.UserAnswer, errors=(Code.NOT_FOUND, Code.SELF_DEACTIVATION))
def admin_active(user_id: str) -> Response:
    """Deactivate or reactivate a user account (admin)."""
    admin = require_user(headers(), roles=(ADMIN,))
    return respond(user=user_management.set_active(admin, user_id, parse_body(bp.current_request, schemas.ActiveIn)))


@bp.route("/admin/user/{user_id}/contact", methods=["PUT"])
@describe(response=out_schemas.UserAnswer, errors=(Code.NOT_FOUND, Code.CONTACT_TAKEN, Code.INVALID_CONTACT))
def admin_contact(user_id: str) -> Response:
    """Change a user's e-mail or phone (admin; audited, unverified unless stated)."""
    admin = require_user(headers(), roles=(ADMIN,))
    body = parse_body(bp.current_request, schemas.ContactChangeIn)
    return respond(user=user_management.set_contact(admin, user_id, body))


@bp.route("/admin/user/{user_id}/mfa", methods=["DELETE"])
@describe(response=out_schemas.UserAnswer, errors=(Code.NOT_FOUND,))
def admin_reset_mfa(user_id: str) -> Response:
    """Reset a user's second factor (a lost phone); audited"""
    admin = require_user(headers(), roles=(ADMIN,))
    return respond(user=mfa.reset_by_admin(admin, user_id))


@bp.route("/admin/user/{user_id}/restore", methods=["POST"])
@describe(response=out_schemas.UserAnswer, errors=(Code.NOT_FOUND, Code.NOT_DELETING, Code.ACCOUNT_ERASED))
def admin_restore(user_id: str) -> Response:
    """Restore an account its user asked to delete, during the grace period (admin; audited)."""
    admin = require_user(headers(), roles=(ADMIN,))
    return respond(user=closing.restore(admin, user_id, None))
