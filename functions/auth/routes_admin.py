"""Routes of user management by the admin role (`/admin/users`, `/admin/user/...`); the use
cases are `user_management`."""

from __future__ import annotations

from chalice.app import Response

from functions.auth import mfa, schemas, user_management
from functions.auth.blueprint import bp, headers
from functions.core.envelope import respond
from functions.core.errors import Code
from functions.core.openapi import describe
from functions.core.paging import pagination
from functions.core.security import ADMIN, require_user
from functions.core.validation import parse_body, parse_query


@bp.route("/admin/users", methods=["GET"])
def admin_users() -> Response:
    admin = require_user(headers(), roles=(ADMIN,))
    query = parse_query(bp.current_request, schemas.UsersQuery)
    users, total = user_management.list_users(admin, query)
    return respond(count=len(users), users=users, pagination=pagination(total, query.page, query.limit))


@bp.route("/admin/user/{user_id}", methods=["GET"])
def admin_user(user_id: str) -> Response:
    admin = require_user(headers(), roles=(ADMIN,))
    return respond(user=user_management.get_user(admin, user_id))


@bp.route("/admin/user/{user_id}/approval", methods=["PUT"])
def admin_approval(user_id: str) -> Response:
    admin = require_user(headers(), roles=(ADMIN,))
    body = parse_body(bp.current_request, schemas.ApprovalIn)
    return respond(user=user_management.set_approval(admin, user_id, body))


@bp.route("/admin/user/{user_id}/active", methods=["PUT"])
def admin_active(user_id: str) -> Response:
    admin = require_user(headers(), roles=(ADMIN,))
    return respond(user=user_management.set_active(admin, user_id, parse_body(bp.current_request, schemas.ActiveIn)))


@bp.route("/admin/user/{user_id}/mfa", methods=["DELETE"])
@describe(response=schemas.UserOut, errors=(Code.NOT_FOUND,))
def admin_reset_mfa(user_id: str) -> Response:
    """Reset a user's second factor (a lost phone); audited"""
    admin = require_user(headers(), roles=(ADMIN,))
    return respond(user=mfa.reset_by_admin(admin, user_id))
