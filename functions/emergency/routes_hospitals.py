"""HTTP routes of the hospitals the emergency line reads out (admin only)."""

from __future__ import annotations

from chalice.app import Response

from functions.core.envelope import respond
from functions.core.paging import pagination
from functions.core.security import ADMIN, require_user
from functions.core.validation import parse_body, parse_query
from functions.emergency import hospitals
from functions.emergency.blueprint import bp, headers
from functions.emergency.schemas import HospitalIn, HospitalsQuery, HospitalUpdateIn


@bp.route("/admin/hospitals", methods=["GET"])
def list_hospitals() -> Response:
    """List the hospitals the emergency line can refer callers to (admin)."""
    require_user(headers(), roles=(ADMIN,))
    query = parse_query(bp.current_request, HospitalsQuery)
    items, total = hospitals.listing(query)
    return respond(hospitals=items, pagination=pagination(total, query.page, query.limit))


@bp.route("/admin/hospitals", methods=["POST"])
def create_hospital() -> Response:
    """Add a hospital to the emergency line's referral list (admin)."""
    require_user(headers(), roles=(ADMIN,))
    body = parse_body(bp.current_request, HospitalIn)
    return respond(201, hospital=hospitals.create(body))


@bp.route("/admin/hospitals/{hospital_id}", methods=["GET"])
def get_hospital(hospital_id: str) -> Response:
    """One hospital of the referral list (admin)."""
    require_user(headers(), roles=(ADMIN,))
    return respond(hospital=hospitals.read(hospital_id))


@bp.route("/admin/hospitals/{hospital_id}", methods=["PUT"])
def update_hospital(hospital_id: str) -> Response:
    """Change a hospital of the referral list (admin)."""
    require_user(headers(), roles=(ADMIN,))
    body = parse_body(bp.current_request, HospitalUpdateIn)
    return respond(hospital=hospitals.update(hospital_id, body))


@bp.route("/admin/hospitals/{hospital_id}", methods=["DELETE"])
def delete_hospital(hospital_id: str) -> Response:
    """Remove a hospital from the referral list (admin)."""
    require_user(headers(), roles=(ADMIN,))
    hospitals.delete(hospital_id)
    return respond(message="Hospital deleted")
