"""HTTP routes of the hospitals the emergency line reads out (admin only)."""

from __future__ import annotations

from chalice.app import Response

from functions.core.envelope import respond
from functions.core.errors import Code
from functions.core.openapi import describe
from functions.core.paging import pagination
from functions.core.schemas import MessageAnswer
from functions.core.security import ADMIN, require_user
from functions.core.validation import parse_body, parse_query
from functions.emergency import hospitals
from functions.emergency.blueprint import bp, headers
from functions.emergency.schemas import HospitalAnswer, HospitalIn, HospitalListAnswer, HospitalsQuery, HospitalUpdateIn


@bp.route("/admin/hospitals", methods=["GET"])
@describe(response=HospitalListAnswer, errors=(Code.VALIDATION_FAILED,))
def list_hospitals() -> Response:
    """Admin: the hospitals the emergency line reads out, filtered by pincode, city or active."""
    require_user(headers(), roles=(ADMIN,))
    query = parse_query(bp.current_request, HospitalsQuery)
    items, total = hospitals.listing(query)
    return respond(hospitals=items, pagination=pagination(total, query.page, query.limit))


@bp.route("/admin/hospitals", methods=["POST"])
@describe(response=HospitalAnswer, status=201, errors=(Code.VALIDATION_FAILED,))
def create_hospital() -> Response:
    """Admin: add a hospital the emergency line may read out to callers."""
    require_user(headers(), roles=(ADMIN,))
    body = parse_body(bp.current_request, HospitalIn)
    return respond(201, hospital=hospitals.create(body))


@bp.route("/admin/hospitals/{hospital_id}", methods=["GET"])
@describe(response=HospitalAnswer, errors=(Code.NOT_FOUND,))
def get_hospital(hospital_id: str) -> Response:
    """Admin: one hospital of the emergency line."""
    require_user(headers(), roles=(ADMIN,))
    return respond(hospital=hospitals.read(hospital_id))


@bp.route("/admin/hospitals/{hospital_id}", methods=["PUT"])
@describe(response=HospitalAnswer, errors=(Code.NOT_FOUND, Code.VALIDATION_FAILED))
def update_hospital(hospital_id: str) -> Response:
    """Admin: change a hospital's details (the fields given; none may be cleared)."""
    require_user(headers(), roles=(ADMIN,))
    body = parse_body(bp.current_request, HospitalUpdateIn)
    return respond(hospital=hospitals.update(hospital_id, body))


@bp.route("/admin/hospitals/{hospital_id}", methods=["DELETE"])
@describe(response=MessageAnswer, errors=(Code.NOT_FOUND,))
def delete_hospital(hospital_id: str) -> Response:
    """Admin: remove a hospital from the emergency line."""
    require_user(headers(), roles=(ADMIN,))
    hospitals.delete(hospital_id)
    return respond(message="Hospital deleted")
