"""Routes of the public doctor directory: the list of listed doctors and one doctor."""

from __future__ import annotations

from chalice.app import Response

from functions.auth import directory, out_schemas, schemas
from functions.auth.blueprint import bp
from functions.core.envelope import respond
from functions.core.errors import Code
from functions.core.openapi import describe
from functions.core.paging import pagination
from functions.core.validation import parse_query


@bp.route("/doctors", methods=["GET"])
@describe(response=out_schemas.DoctorsAnswer, errors=(Code.NOT_FOUND,))
def doctors() -> Response:
    """The directory of doctors a patient can book, by name or speciality."""
    query = parse_query(bp.current_request, schemas.DoctorsQuery)
    items, total, page, limit = directory.list_doctors(query)
    return respond(count=len(items), doctors=items, pagination=pagination(total, page, limit))


@bp.route("/doctor/{doctor_id}", methods=["GET"])
@describe(response=out_schemas.DoctorAnswer, errors=(Code.NOT_FOUND,))
def doctor(doctor_id: str) -> Response:
    """One doctor's public profile."""
    return respond(doctor=directory.get_doctor(doctor_id))
