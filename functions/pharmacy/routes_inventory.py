"""Routes: a verified pharmacy's inventory."""

from chalice.app import Response

from functions.core.bodies import FORM_TYPES, NESTED_WITH_FILES
from functions.core.envelope import respond
from functions.core.paging import pagination
from functions.core.security import PHARMACIST, require_user
from functions.core.validation import media_type, parse_body, parse_model, parse_query, read_body
from functions.pharmacy import inventory, medicine_rules
from functions.pharmacy.blueprint import bp, headers, request
from functions.pharmacy.schemas import BulkStockIn, ExpiringQuery, InventorySearchQuery, MedicineIn, MedicineUpdateIn

IMAGE_FIELDS = ("images", "images[]")  # the frontend's multipart file field (multer's `images`)


@bp.route("/pharmacy/medicines", methods=["POST"], content_types=FORM_TYPES)
def add_medicine() -> Response:
    """Add a medicine to the pharmacy's inventory (form or JSON; images)."""
    owner = require_user(headers(), roles=(PHARMACIST,))
    body = read_body(request(), NESTED_WITH_FILES)
    medicine = inventory.add(owner, parse_model(MedicineIn, body.data), body.files_named(*IMAGE_FIELDS))
    return respond(201, message="Medicine added successfully", medicine=medicine)


@bp.route("/pharmacy/medicine/{medicine_id}", methods=["PUT"], content_types=FORM_TYPES)
def update_medicine(medicine_id: str) -> Response:
    """Change a medicine of the pharmacy's inventory (form or JSON; images)."""
    owner = require_user(headers(), roles=(PHARMACIST,))
    body = read_body(request(), NESTED_WITH_FILES)
    data = parse_model(MedicineUpdateIn, body.fields_except(medicine_rules.READ_ONLY))
    medicine = inventory.update(owner, medicine_id, data, body.files_named(*IMAGE_FIELDS))
    return respond(message="Medicine updated successfully", medicine=medicine)


@bp.route("/pharmacy/medicine/{medicine_id}", methods=["DELETE"])
def delete_medicine(medicine_id: str) -> Response:
    """Take a medicine off the pharmacy's inventory."""
    owner = require_user(headers(), roles=(PHARMACIST,))
    inventory.remove(owner, medicine_id)
    return respond(message="Medicine deleted successfully")


@bp.route("/pharmacy/medicines/bulk-upload", methods=["POST"], content_types=["application/json", "text/csv"])
def bulk_upload() -> Response:
    """Add many medicines at once (JSON rows or a CSV)."""
    owner = require_user(headers(), roles=(PHARMACIST,))
    raw = request().raw_body
    rows = inventory.bulk_rows(media_type(request()) or "", raw if isinstance(raw, bytes) else (raw or "").encode())
    results, inserted = inventory.bulk_upload(owner, rows)
    return respond(201, message=f"{len(inserted)} medicines uploaded successfully", inserted=len(inserted),
                   failed=len(results) - len(inserted), results=results, medicines=inserted)


@bp.route("/pharmacy/medicines/bulk-stock-update", methods=["PUT"])
def bulk_stock() -> Response:
    """Set the stock of several medicines at once."""
    owner = require_user(headers(), roles=(PHARMACIST,))
    data = parse_body(request(), BulkStockIn)
    results = inventory.bulk_stock(owner, data.stockUpdates)
    updated = sum(1 for r in results if r["ok"])
    return respond(message=f"{updated} of {len(results)} stock updates applied", results=results)


@bp.route("/pharmacy/medicines/low-stock", methods=["GET"])
def low_stock() -> Response:
    """The pharmacy's medicines at or below their minimum stock."""
    owner = require_user(headers(), roles=(PHARMACIST,))
    items = inventory.low_stock(owner)
    return respond(count=len(items), medicines=items)


@bp.route("/pharmacy/medicines/expiring", methods=["GET"])
def expiring() -> Response:
    """The pharmacy's medicines that expire within a number of days."""
    owner = require_user(headers(), roles=(PHARMACIST,))
    query = parse_query(request(), ExpiringQuery)
    items, total = inventory.expiring(owner, query)
    return respond(count=len(items), medicines=items, pagination=pagination(total, query.page, query.limit))


@bp.route("/pharmacy/medicines/search", methods=["GET"])
def search() -> Response:
    """Search the pharmacy's own inventory by name, category and stock status."""
    owner = require_user(headers(), roles=(PHARMACIST,))
    query = parse_query(request(), InventorySearchQuery)
    items, total = inventory.search(owner, query)
    return respond(medicines=items, pagination=pagination(total, query.page, query.limit))
