"""Routes: a verified pharmacy's inventory."""

from chalice.app import Response

from functions.core.bodies import FORM_TYPES, NESTED_WITH_FILES
from functions.core.envelope import respond
from functions.core.errors import Code
from functions.core.openapi import describe
from functions.core.paging import pagination
from functions.core.schemas import MessageAnswer
from functions.core.security import PHARMACIST, require_user
from functions.core.validation import media_type, parse_body, parse_model, parse_query, read_body
from functions.pharmacy import inventory, medicine_rules
from functions.pharmacy.blueprint import IMAGES, SHOP, bp, headers, request
from functions.pharmacy.out_schemas import (
    BulkStockAnswer,
    BulkUploadAnswer,
    InventorySearchAnswer,
    MedicineListAnswer,
    MedicinePageAnswer,
    MedicineSavedAnswer,
)
from functions.pharmacy.schemas import BulkStockIn, ExpiringQuery, InventorySearchQuery, MedicineIn, MedicineUpdateIn

IMAGE_FIELDS = ("images", "images[]")  # the frontend's multipart file field (multer's `images`)


@bp.route("/pharmacy/medicines", methods=["POST"], content_types=FORM_TYPES)
@describe(response=MedicineSavedAnswer, status=201, errors=(*SHOP, *IMAGES, Code.VALIDATION_FAILED))
def add_medicine() -> Response:
    """Add a medicine to the caller's verified pharmacy (multipart with `images` files, or JSON)."""
    owner = require_user(headers(), roles=(PHARMACIST,))
    body = read_body(request(), NESTED_WITH_FILES)
    medicine = inventory.add(owner, parse_model(MedicineIn, body.data), body.files_named(*IMAGE_FIELDS))
    return respond(201, message="Medicine added successfully", medicine=medicine)


@bp.route("/pharmacy/medicine/{medicine_id}", methods=["PUT"], content_types=FORM_TYPES)
@describe(response=MedicineSavedAnswer, errors=(*SHOP, *IMAGES, Code.NOT_FOUND, Code.VALIDATION_FAILED))
def update_medicine(medicine_id: str) -> Response:
    """Change a medicine of the caller's pharmacy (server-managed fields sent back are ignored)."""
    owner = require_user(headers(), roles=(PHARMACIST,))
    body = read_body(request(), NESTED_WITH_FILES)
    data = parse_model(MedicineUpdateIn, body.fields_except(medicine_rules.READ_ONLY))
    medicine = inventory.update(owner, medicine_id, data, body.files_named(*IMAGE_FIELDS))
    return respond(message="Medicine updated successfully", medicine=medicine)


@bp.route("/pharmacy/medicine/{medicine_id}", methods=["DELETE"])
@describe(response=MessageAnswer, errors=(*SHOP, Code.NOT_FOUND))
def delete_medicine(medicine_id: str) -> Response:
    """Withdraw a medicine of the caller's pharmacy (kept inactive for the orders that name it)."""
    owner = require_user(headers(), roles=(PHARMACIST,))
    inventory.remove(owner, medicine_id)
    return respond(message="Medicine deleted successfully")


@bp.route("/pharmacy/medicines/bulk-upload", methods=["POST"], content_types=["application/json", "text/csv"])
@describe(response=BulkUploadAnswer, status=201, errors=(*SHOP, Code.MALFORMED_CSV, Code.MALFORMED_JSON, Code.NO_ROWS,
          Code.TOO_MANY_ROWS, Code.NO_VALID_ROWS, Code.ASSET_INVALID))
def bulk_upload() -> Response:
    """Add many medicines from JSON (`{medicines: [...]}`) or CSV: the valid rows, with a result per row."""
    owner = require_user(headers(), roles=(PHARMACIST,))
    raw = request().raw_body
    rows = inventory.bulk_rows(media_type(request()) or "", raw if isinstance(raw, bytes) else (raw or "").encode())
    results, inserted = inventory.bulk_upload(owner, rows)
    return respond(201, message=f"{len(inserted)} medicines uploaded successfully", inserted=len(inserted),
                   failed=len(results) - len(inserted), results=results, medicines=inserted)


@bp.route("/pharmacy/medicines/bulk-stock-update", methods=["PUT"])
@describe(response=BulkStockAnswer, errors=(*SHOP, Code.NO_VALID_ROWS, Code.VALIDATION_FAILED))
def bulk_stock() -> Response:
    """Set the stock of several medicines at once, with a result per row (422 when none applied)."""
    owner = require_user(headers(), roles=(PHARMACIST,))
    data = parse_body(request(), BulkStockIn)
    results = inventory.bulk_stock(owner, data.stockUpdates)
    updated = sum(1 for r in results if r["ok"])
    return respond(message=f"{updated} of {len(results)} stock updates applied", results=results)


@bp.route("/pharmacy/medicines/low-stock", methods=["GET"])
@describe(response=MedicineListAnswer, errors=SHOP)
def low_stock() -> Response:
    """The caller's active medicines at or below their minimum stock, lowest first."""
    owner = require_user(headers(), roles=(PHARMACIST,))
    items = inventory.low_stock(owner)
    return respond(count=len(items), medicines=items)


@bp.route("/pharmacy/medicines/expiring", methods=["GET"])
@describe(response=MedicinePageAnswer, errors=(*SHOP, Code.VALIDATION_FAILED))
def expiring() -> Response:
    """The caller's active medicines expiring within `days` (90 by default), soonest first."""
    owner = require_user(headers(), roles=(PHARMACIST,))
    query = parse_query(request(), ExpiringQuery)
    items, total = inventory.expiring(owner, query)
    return respond(count=len(items), medicines=items, pagination=pagination(total, query.page, query.limit))


@bp.route("/pharmacy/medicines/search", methods=["GET"])
@describe(response=InventorySearchAnswer, errors=(*SHOP, Code.VALIDATION_FAILED))
def search() -> Response:
    """Search the caller's own inventory by keyword, category, prescription and stock status."""
    owner = require_user(headers(), roles=(PHARMACIST,))
    query = parse_query(request(), InventorySearchQuery)
    items, total = inventory.search(owner, query)
    return respond(medicines=items, pagination=pagination(total, query.page, query.limit))
