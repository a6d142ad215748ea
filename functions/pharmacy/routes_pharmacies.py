"""Routes: pharmacy registration, the owner's pharmacy and stats, the public directory."""

from chalice.app import Response

from functions.core.bodies import FORM_TYPES, NESTED_WITH_FILES
from functions.core.envelope import respond
from functions.core.errors import Code
from functions.core.openapi import describe, dev_only
from functions.core.paging import pagination
from functions.core.security import PHARMACIST, require_user
from functions.core.validation import parse_model, parse_query, read_body
from functions.pharmacy import pharmacies, reports
from functions.pharmacy.blueprint import IMAGES, bp, headers, request
from functions.pharmacy.out_schemas import (
    PharmacyAnswer,
    PharmacySavedAnswer,
    PublicPharmacyAnswer,
    PublicPharmacyListAnswer,
    StatsAnswer,
)
from functions.pharmacy.schemas import PHARMACY_READ_ONLY, PharmacyIn, PharmacyListQuery, PharmacyUpdateIn


@bp.route("/pharmacy/register", methods=["POST"], content_types=FORM_TYPES)
@describe(response=PharmacySavedAnswer, status=201, errors=(Code.PHARMACY_EXISTS, Code.LICENSE_TAKEN,
          Code.REGISTRATION_REFUSED, *IMAGES, Code.VALIDATION_FAILED))
def register() -> Response:
    """Register the caller's pharmacy (multipart or JSON); it waits for an admin's verification."""
    owner = require_user(headers(), roles=(PHARMACIST,))
    body = read_body(request(), NESTED_WITH_FILES)
    pharmacy = pharmacies.register(owner, parse_model(PharmacyIn, body.data), body.file("avatar"))
    return respond(201, message="Pharmacy registered successfully", pharmacy=pharmacy)


@bp.route("/pharmacy/quick-setup", methods=["POST"])
@dev_only  # answers 404 outside the dev stage, and is in the dev stage's OpenAPI document alone
@describe(response=PharmacySavedAnswer, status=(201, 200), errors=(Code.NOT_FOUND,))
def quick_setup() -> Response:
    """Dev stage only: a verified demo pharmacy for the caller (200 with the existing one)."""
    owner = require_user(headers(), roles=(PHARMACIST,))
    pharmacy, created = pharmacies.quick_setup(owner)
    if created:
        return respond(201, message="Test pharmacy created successfully", pharmacy=pharmacy)
    return respond(message="Pharmacy already exists", pharmacy=pharmacy)


@bp.route("/pharmacy/my", methods=["GET"])
@describe(response=PharmacyAnswer, errors=(Code.NO_PHARMACY,))
def my_pharmacy() -> Response:
    """The caller's own pharmacy, with its licence and verification status."""
    owner = require_user(headers(), roles=(PHARMACIST,))
    return respond(pharmacy=pharmacies.my(owner))


@bp.route("/pharmacy/my", methods=["PUT"], content_types=FORM_TYPES)
@describe(response=PharmacySavedAnswer, errors=(Code.NO_PHARMACY, *IMAGES, Code.VALIDATION_FAILED))
def update_my_pharmacy() -> Response:
    """Change the caller's pharmacy (allowed fields only; server-managed fields sent back are ignored)."""
    owner = require_user(headers(), roles=(PHARMACIST,))
    body = read_body(request(), NESTED_WITH_FILES)
    data = parse_model(PharmacyUpdateIn, body.fields_except(PHARMACY_READ_ONLY))
    pharmacy = pharmacies.update_my(owner, data, body.file("avatar"))
    return respond(message="Pharmacy updated successfully", pharmacy=pharmacy)


@bp.route("/pharmacy/stats", methods=["GET"])
@describe(response=StatsAnswer, errors=(Code.NO_PHARMACY,))
def stats() -> Response:
    """The caller's dashboard counts: medicines, orders, revenue and rating."""
    owner = require_user(headers(), roles=(PHARMACIST,))
    return respond(stats=reports.pharmacy_stats(owner))


@bp.route("/pharmacies", methods=["GET"])
@describe(response=PublicPharmacyListAnswer, errors=(Code.VALIDATION_FAILED,))
def public_list() -> Response:
    """Listed pharmacies, filtered by city or pincode, paged."""
    query = parse_query(request(), PharmacyListQuery)
    items, total = pharmacies.public_list(query)
    return respond(count=len(items), pharmacies=items, pagination=pagination(total, query.page, query.limit))


@bp.route("/pharmacy/{pharmacy_id}", methods=["GET"])
@describe(response=PublicPharmacyAnswer, errors=(Code.NOT_FOUND,))
def public_view(pharmacy_id: str) -> Response:
    """A listed pharmacy's public page."""
    return respond(pharmacy=pharmacies.public_view(pharmacy_id))
