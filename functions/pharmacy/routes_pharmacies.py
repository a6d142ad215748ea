"""Routes: pharmacy registration, the owner's pharmacy and stats, the public directory."""

from chalice.app import Response

from functions.core.bodies import FORM_TYPES, NESTED_WITH_FILES
from functions.core.envelope import respond
from functions.core.openapi import dev_only
from functions.core.paging import pagination
from functions.core.security import PHARMACIST, require_user
from functions.core.validation import parse_model, parse_query, read_body
from functions.pharmacy import pharmacies, reports
from functions.pharmacy.blueprint import bp, headers, request
from functions.pharmacy.schemas import PHARMACY_READ_ONLY, PharmacyIn, PharmacyListQuery, PharmacyUpdateIn


@bp.route("/pharmacy/register", methods=["POST"], content_types=FORM_TYPES)
def register() -> Response:
    """Register the pharmacist's pharmacy; an admin verifies it."""
    owner = require_user(headers(), roles=(PHARMACIST,))
    body = read_body(request(), NESTED_WITH_FILES)
    pharmacy = pharmacies.register(owner, parse_model(PharmacyIn, body.data), body.file("avatar"))
    return respond(201, message="Pharmacy registered successfully", pharmacy=pharmacy)


@bp.route("/pharmacy/quick-setup", methods=["POST"])
@dev_only  # answers 404 outside the dev stage, and is in the dev stage's OpenAPI document alone
def quick_setup() -> Response:
    """Create a verified demo pharmacy for the signed-in pharmacist (dev stage only)."""
    owner = require_user(headers(), roles=(PHARMACIST,))
    pharmacy, created = pharmacies.quick_setup(owner)
    if created:
        return respond(201, message="Test pharmacy created successfully", pharmacy=pharmacy)
    return respond(message="Pharmacy already exists", pharmacy=pharmacy)


@bp.route("/pharmacy/my", methods=["GET"])
def my_pharmacy() -> Response:
    """The pharmacist's own pharmacy."""
    owner = require_user(headers(), roles=(PHARMACIST,))
    return respond(pharmacy=pharmacies.my(owner))


@bp.route("/pharmacy/my", methods=["PUT"], content_types=FORM_TYPES)
def update_my_pharmacy() -> Response:
    """Change the pharmacist's own pharmacy (details, hours, avatar)."""
    owner = require_user(headers(), roles=(PHARMACIST,))
    body = read_body(request(), NESTED_WITH_FILES)
    data = parse_model(PharmacyUpdateIn, body.fields_except(PHARMACY_READ_ONLY))
    pharmacy = pharmacies.update_my(owner, data, body.file("avatar"))
    return respond(message="Pharmacy updated successfully", pharmacy=pharmacy)


@bp.route("/pharmacy/stats", methods=["GET"])
def stats() -> Response:
    """The pharmacy dashboard's counts: medicines, low stock, orders today."""
    owner = require_user(headers(), roles=(PHARMACIST,))
    return respond(stats=reports.pharmacy_stats(owner))


@bp.route("/pharmacies", methods=["GET"])
def public_list() -> Response:
    """List verified pharmacies (public), by city or pincode."""
    query = parse_query(request(), PharmacyListQuery)
    items, total = pharmacies.public_list(query)
    return respond(count=len(items), pharmacies=items, pagination=pagination(total, query.page, query.limit))


@bp.route("/pharmacy/{pharmacy_id}", methods=["GET"])
def public_view(pharmacy_id: str) -> Response:
    """One verified pharmacy's public profile."""
    return respond(pharmacy=pharmacies.public_view(pharmacy_id))
