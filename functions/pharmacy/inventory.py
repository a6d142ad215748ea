"""A pharmacist's inventory of medicines.

A pharmacist's inventory: add, edit, soft-delete, bulk upload (JSON or CSV) and bulk stock,
low-stock, expiring and search lists. Only the owner of a verified pharmacy.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from bson import ObjectId
from pydantic import ValidationError

from functions.core import clock
from functions.core.bodies import UploadedFile
from functions.core.compensation import Compensations
from functions.core.db import object_id
from functions.core.errors import BadRequest, Code, NotFound, PayloadTooLarge, Unprocessable, ValidationFailed
from functions.core.observability import logger
from functions.core.security import Principal
from functions.core.validation import field_errors
from functions.media import api as media
from functions.pharmacy import medicine_rules
from functions.pharmacy.images import upload_image
from functions.pharmacy.pharmacies import owned_verified
from functions.pharmacy.schemas import (
    ExpiringQuery,
    InventorySearchQuery,
    MedicineFields,
    MedicineIn,
    MedicineUpdateIn,
    StockRow,
)
from functions.pharmacy.stores import medicines, orders, pharmacies

MAX_ROWS = 1000
MAX_IMAGES = 5
MEDICINE_IMAGE = "medicine-image"  # the media purpose
SCAN_CAP = 5000  # a pharmacy's inventory read whole for rules the engine cannot evaluate (stock <= minStock)
_SORTS: dict[str, list[tuple[str, int]]] = {
    "name": [("name", 1)], "price": [("price", 1)], "stock": [("stock", -1)], "expiry": [("expiryDate", 1)],
}


def _images(owner: Principal, data: MedicineFields, uploads: list[UploadedFile]
            ) -> list[dict[str, str]] | None:
    """The medicine's images (None when the request names none). The form's image files are
    uploaded and recorded as the pharmacist's; a JSON `images` list is accepted only if every
    entry is a recorded medicine-image upload of this pharmacist (422 ASSET_INVALID otherwise),
    with the url Cloudinary reported."""
    if not uploads:
        return None if data.images is None else media.require_assets(owner.id, MEDICINE_IMAGE, data.images)
    if len(uploads) > MAX_IMAGES:
        raise BadRequest("At most 5 images", code=Code.TOO_MANY_IMAGES)
    stored = [upload_image(f, owner.id, MEDICINE_IMAGE) for f in uploads]
    return [s for s in stored if s is not None]


def new_doc(pharmacy: Mapping[str, Any], data: MedicineIn) -> dict[str, Any]:
    now = clock.now()
    doc: dict[str, Any] = {"_id": ObjectId(), "pharmacy": pharmacy["_id"],
                           **data.model_dump(mode="python", exclude_none=True)}
    doc.setdefault("images", [])
    doc.setdefault("tags", [])
    doc.update({
        "discount": medicine_rules.discount_percent(data.price, data.mrp),
        "listed": bool(pharmacy.get("listed")) and data.isActive, "shopListed": bool(pharmacy.get("listed")),
        "rating": 0, "totalReviews": 0, "soldCount": 0, "createdAt": now, "updatedAt": now,
    })
    doc["searchText"] = medicine_rules.search_text(doc)
    doc["searchTokens"] = medicine_rules.search_tokens(doc)
    return doc


def _recheck_listing(pharmacy_id: ObjectId, listed_as: bool) -> None:
    """A verification change racing with an insert: bring the pharmacy's medicines in step."""
    now_listed = pharmacies.get_listed(pharmacy_id) is not None
    if now_listed != listed_as:
        medicines.relist_pharmacy(pharmacy_id, now_listed)


def add(owner: Principal, data: MedicineIn, uploads: list[UploadedFile]) -> dict[str, Any]:
    pharmacy = owned_verified(owner)
    images = _images(owner, data, uploads)
    doc = new_doc(pharmacy, data)
    if images is not None:
        doc["images"] = images
    medicines.insert(doc)
    _after_adding(pharmacy, 1)
    return medicine_rules.to_api(doc, clock.now())  # the document as stored (expiry normalised by the schema)


def _after_adding(pharmacy: Mapping[str, Any], added: int) -> None:
    """The counter and the listing re-check after new medicines are stored: they never fail the
    request that stored them (logged)."""
    try:
        pharmacies.increment(pharmacy["_id"], {"totalMedicines": added})
        _recheck_listing(pharmacy["_id"], bool(pharmacy.get("listed")))
    except Exception as exc:
        logger.error("medicines added, a follow-up step failed",
                     extra={"pharmacy": str(pharmacy["_id"]), "error": type(exc).__name__})


def update(owner: Principal, medicine_id: str, data: MedicineUpdateIn, uploads: list[UploadedFile]
           ) -> dict[str, Any]:
    pharmacy = owned_verified(owner)
    target = object_id(medicine_id, "Medicine")
    current = medicines.get_owned(pharmacy["_id"], target)
    if current is None:
        raise NotFound.of("Medicine")
    changes = data.model_dump(mode="python", exclude_none=True)
    images = _images(owner, data, uploads)
    if images is not None:
        changes["images"] = images
    merged = {**current, **changes}
    if merged["price"] > merged["mrp"]:
        raise ValidationFailed("Validation failed", errors=[{"field": "price", "message": "price cannot exceed mrp"}])
    changes["discount"] = medicine_rules.discount_percent(merged["price"], merged["mrp"])
    changes["listed"] = bool(pharmacy.get("listed")) and bool(merged.get("isActive", True))
    changes["searchText"] = medicine_rules.search_text(merged)
    changes["searchTokens"] = medicine_rules.search_tokens(merged)
    changes["updatedAt"] = clock.now()
    updated = medicines.update_owned(pharmacy["_id"], target, changes)
    if updated is None and changes["listed"]:  # suspended meanwhile ("pharmacy still listed" is in the filter)
        pharmacy = owned_verified(owner)  # 403 if no longer verified; else listed as the pharmacy is now
        changes["listed"] = bool(pharmacy.get("listed")) and bool(merged.get("isActive", True))
        updated = medicines.update_owned(pharmacy["_id"], target, changes)
    if updated is None:
        raise NotFound.of("Medicine")
    if "isActive" in changes and bool(changes["isActive"]) != bool(current.get("isActive", True)):
        pharmacies.increment(pharmacy["_id"], {"totalMedicines": 1 if changes["isActive"] else -1})
    if images is not None:  # images no longer used leave Cloudinary (best effort, logged)...
        kept = [*images, *({"public_id": p} for p in updated.get("orderedImages") or []),
                *_images_of_open_orders(current)]
        media.destroy_replaced(owner.id, current.get("images") or [], kept)  # ...unless an order shows one
    return medicine_rules.to_api(updated, clock.now())


def _images_of_open_orders(current: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The images the orders holding this medicine's stock show (`takes`): `orderedImages` learns
    them off the request path (the order's effect), so until then they are read here, in one read
    and only when an edit replaces the images of a medicine with open orders. An order still being
    placed (its take recorded, its document not yet written) may show any current image."""
    takes = [ObjectId(order_id) for order_id in current.get("takes") or {}]
    if not takes:
        return []
    found = orders.by_ids(takes)
    if len(found) < len(takes):
        return list(current.get("images") or [])
    return [item["image"] for order in found.values() for item in order.get("items") or []
            if item.get("medicine") == current["_id"] and (item.get("image") or {}).get("public_id")]


def remove(owner: Principal, medicine_id: str) -> None:
    """Soft delete: inactive and unlisted; orders keep their item snapshots (D-45: hard deletes
    left orders pointing at nothing). The images stay in Cloudinary: the medicine can be
    re-activated and those snapshots show its first image."""
    pharmacy = owned_verified(owner)
    target = object_id(medicine_id, "Medicine")
    current = medicines.get_owned(pharmacy["_id"], target)
    if current is None:
        raise NotFound.of("Medicine")
    medicines.update_owned(pharmacy["_id"], target, {"isActive": False, "listed": False, "updatedAt": clock.now()})
    if current.get("isActive", True):
        pharmacies.increment(pharmacy["_id"], {"totalMedicines": -1})


# ---------------------------------------------------------------- bulk


def _csv_rows(text: str) -> list[dict[str, Any]]:
    reader = csv.DictReader(io.StringIO(text))
    rows: list[dict[str, Any]] = []
    for record in reader:
        row: dict[str, Any] = {}
        for key, value in record.items():
            if key is None or value is None or (isinstance(value, str) and value.strip() == ""):
                continue
            key = key.strip()
            row[key] = [t.strip() for t in re.split(r"[;|]", str(value)) if t.strip()] if key == "tags" else value
        rows.append(row)
        if len(rows) > MAX_ROWS:
            break
    return rows


def bulk_rows(media_type: str, raw: bytes) -> list[Any]:
    """The rows of a bulk upload: a JSON array, `{"medicines": [...]}` (the reference's body)
    or CSV with a header line."""
    if media_type == "text/csv":
        try:
            return _csv_rows(raw.decode("utf-8-sig"))
        except (UnicodeDecodeError, csv.Error):
            raise BadRequest("Malformed CSV body", code=Code.MALFORMED_CSV) from None
    import json

    try:
        data = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("Malformed JSON body", code=Code.MALFORMED_JSON) from None
    if isinstance(data, dict):
        data = data.get("medicines")
    if not isinstance(data, list) or not data:
        raise BadRequest("Please provide medicines data", code=Code.NO_ROWS)
    return data


def bulk_upload(owner: Principal, rows: list[Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Validate every row; insert the valid ones; report each row (D-43: invalid rows were
    silently dropped, with 201 even when nothing was inserted). Returns (report, inserted)."""
    pharmacy = owned_verified(owner)
    if len(rows) > MAX_ROWS:
        raise PayloadTooLarge(f"At most {MAX_ROWS} rows per upload", code=Code.TOO_MANY_ROWS)
    report: list[dict[str, Any]] = []
    docs: list[dict[str, Any]] = []
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            report.append({"row": number, "ok": False, "errors": [{"field": "row", "message": "expected an object"}]})
            continue
        try:
            data = MedicineIn.model_validate(row)
        except ValidationError as exc:
            report.append({"row": number, "ok": False, "errors": field_errors(exc)})
            continue
        doc = new_doc(pharmacy, data)
        docs.append(doc)
        report.append({"row": number, "ok": True, "id": doc["_id"]})
    if not docs:
        raise Unprocessable("No row was valid; nothing was uploaded", code=Code.NO_VALID_ROWS,
                            extra={"results": report})
    _bulk_images(owner, docs)
    ids = [d["_id"] for d in docs]
    with Compensations("bulk upload") as undo:  # all valid rows or none: the report says what was written
        undo.step("insert rows", lambda: medicines.delete_new(pharmacy["_id"], ids))
        medicines.insert_many(docs)
    _after_adding(pharmacy, len(docs))
    now = clock.now()
    return report, [medicine_rules.to_api(d, now) for d in docs]


def _bulk_images(owner: Principal, docs: list[dict[str, Any]]) -> None:
    """Rows naming images: every one must be a recorded medicine-image upload of the caller (one
    read for the whole upload; a foreign or unknown one refuses the upload, 422 ASSET_INVALID);
    the stored urls are Cloudinary's."""
    named = [ref for doc in docs for ref in doc.get("images") or []]
    if not named:
        return
    checked = {ref["public_id"]: ref for ref in media.require_assets(owner.id, MEDICINE_IMAGE, named)}
    for doc in docs:
        doc["images"] = [checked[ref["public_id"]] for ref in doc.get("images") or []]


def bulk_stock(owner: Principal, rows: list[dict[str, object]]) -> list[dict[str, Any]]:
    """Per-row results; stock is a whole number >= 0, as a number or the stock input's string
    (D-42: negative or fractional stock was accepted, unknown ids were skipped silently, one bad
    id failed the rest). When no row applied: 422 naming the first row's error in `message`
    (the UI shows only `message`, and says "updated" on any 2xx)."""
    pharmacy = owned_verified(owner)
    now = clock.now()
    results: list[dict[str, Any]] = []
    for number, row in enumerate(rows, start=1):
        try:
            item = StockRow.model_validate(row)
        except ValidationError as exc:
            results.append({"row": number, "ok": False, "errors": field_errors(exc)})
            continue
        if medicines.set_stock(pharmacy["_id"], ObjectId(item.medicineId), item.newStock, now):
            results.append({"row": number, "ok": True, "id": item.medicineId, "stock": item.newStock})
        else:
            results.append({"row": number, "ok": False, "id": item.medicineId,
                            "errors": [{"field": "medicineId", "message": "Medicine not found"}]})
    if not any(r["ok"] for r in results):
        first = results[0]["errors"][0]
        raise Unprocessable(f"No stock was updated: row 1, {first['field']}: {first['message']}",
                            code=Code.NO_VALID_ROWS, extra={"results": results},
                            errors=[{"field": f"stockUpdates.0.{first['field']}", "message": first["message"]}])
    return results


# ---------------------------------------------------------------- lists


def low_stock(owner: Principal) -> list[dict[str, Any]]:
    """Active medicines with stock <= their own minStock (out of stock included), lowest first."""
    pharmacy = owned_verified(owner)
    rows = medicines.all_of_pharmacy(pharmacy["_id"], {"isActive": True}, None, SCAN_CAP)
    low = sorted((d for d in rows if int(d.get("stock", 0)) <= int(d.get("minStock", 10))),
                 key=lambda d: (int(d.get("stock", 0)), str(d.get("name"))))
    now = clock.now()
    return [medicine_rules.to_api(d, now) for d in low]


def expiring(owner: Principal, query: ExpiringQuery) -> tuple[list[dict[str, Any]], int]:
    """Active medicines expiring within `days` (default 90); already-expired ones are flagged."""
    pharmacy = owned_verified(owner)
    now = clock.now()
    filters = {"pharmacy": pharmacy["_id"], "isActive": True, "expiryDate": {"$lte": now + timedelta(days=query.days)}}
    items, total = medicines.page(filters, [("expiryDate", 1)], query.skip, query.limit)
    return [medicine_rules.to_api(d, now) for d in items], total


def search(owner: Principal, query: InventorySearchQuery) -> tuple[list[dict[str, Any]], int]:
    """The pharmacist's own catalogue: active medicines, or every one with `includeInactive`
    (a deleted medicine is inactive, and the dashboard's table must not show it again)."""
    pharmacy = owned_verified(owner)
    now = clock.now()
    filters: dict[str, Any] = {} if query.includeInactive else {"isActive": True}
    if query.keyword and query.keyword.strip():
        filters["searchText"] = {"$regex": re.escape(medicine_rules.normalise(query.keyword))}
    if query.category and query.category != "all":
        filters["category"] = query.category
    if query.prescriptionRequired is not None:
        filters["prescriptionRequired"] = query.prescriptionRequired
    if query.stockStatus == "inStock":
        filters["stock"] = {"$gt": 0}
    elif query.stockStatus == "outOfStock":
        filters["stock"] = 0
    sort = _SORTS[query.sortBy or "name"]
    if query.stockStatus == "lowStock":
        rows = [d for d in medicines.all_of_pharmacy(pharmacy["_id"], filters, None, SCAN_CAP)
                if int(d.get("stock", 0)) <= int(d.get("minStock", 10))]
        key, direction = sort[0]
        rows.sort(key=lambda d: (d.get(key) is None, d.get(key)), reverse=direction < 0)
        page_rows, total = rows[query.skip:query.skip + query.limit], len(rows)
    else:
        page_rows, total = medicines.page({"pharmacy": pharmacy["_id"], **filters}, sort, query.skip, query.limit)
    return [medicine_rules.to_api(d, now) for d in page_rows], total
