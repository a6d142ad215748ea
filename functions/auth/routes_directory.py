"""Routes of the public doctor directory: the list of listed doctors and one doctor."""

from __future__ import annotations

from chalice.app import Response

from functions.auth import directory, schemas
from functions.auth.blueprint import bp
from functions.core.envelope import respond
from functions.core.paging import pagination
from functions.core.validation import parse_query


@bp.route("/doctors", methods=["GET"])
def doctors() -> Response:
    query = parse_query(bp.current_request, schemas.DoctorsQuery)
    items, total, page, limit = directory.list_doctors(query)
    return respond(count=len(items), doctors=items, pagination=pagination(total, page, limit))


@bp.route("/doctor/{doctor_id}", methods=["GET"])
def doctor(doctor_id: str) -> Response:
    return respond(doctor=directory.get_doctor(doctor_id))
