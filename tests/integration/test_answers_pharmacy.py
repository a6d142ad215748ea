"""The pharmacy's answers are what the OpenAPI document says (issue 23, a typed contract): the main
requests of every pharmacy route are sent and each answer is validated against its route's
documented schema (`tests.documented`), whose models forbid unknown keys, so a field the views
add, rename or retype fails here. The document's examples are validated the same way, and the
fields the existing frontend reads (`../shared/frontend-contract.md`) are required in it."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import ValidationError

from tests.documented import document, documented, schema_of, template, validate
from tests.factories import make_user
from tests.http import call
from tests.pharmacy_support import medicine_fields, order_body, patient, pharmacist, registration


def ok(api: Any, method: str, path: str, user: dict[str, Any] | None, status: int = 200, **kwargs: Any) -> Any:
    response = call(api, method, path, as_=user, **kwargs)
    assert response.status_code == status, (method, path, response.body[:400])
    return documented(response, method, path)


@pytest.fixture
def shop(api, clock):
    """A pharmacist whose pharmacy registered through the API and an admin verified."""
    owner, admin = pharmacist(), make_user("admin")
    pharmacy = ok(api, "POST", "/pharmacy/register", owner, 201, json=registration())["pharmacy"]
    ok(api, "PUT", f"/admin/pharmacy/{pharmacy['_id']}/status", admin, json={"status": "verified"})
    medicine = ok(api, "POST", "/pharmacy/medicines", owner, 201, json=medicine_fields())["medicine"]
    return {"owner": owner, "admin": admin, "pharmacy": pharmacy, "medicine": medicine}


def test_the_pharmacist_routes_answer_what_the_document_says(api, shop):
    # Given a verified pharmacy with a medicine
    owner, pharmacy, medicine = shop["owner"], shop["pharmacy"], shop["medicine"]
    # When its pharmacist reads and changes it, and manages the inventory
    mine = ok(api, "GET", "/pharmacy/my", owner)
    changed = ok(api, "PUT", "/pharmacy/my", owner, json={"description": "Open all night", "deliveryRadius": "8"})
    updated = ok(api, "PUT", f"/pharmacy/medicine/{medicine['_id']}", owner, json={"price": "22.50", "stock": "4"})
    bulk = ok(api, "POST", "/pharmacy/medicines/bulk-upload", owner, 201,
              json={"medicines": [medicine_fields(name="Cetirizine", category="Cold & Flu"), {"name": ""}]})
    stock = ok(api, "PUT", "/pharmacy/medicines/bulk-stock-update", owner,
               json={"stockUpdates": [{"medicineId": medicine["_id"], "newStock": "3"},
                                      {"medicineId": "0" * 24, "newStock": "1"}]})
    low = ok(api, "GET", "/pharmacy/medicines/low-stock", owner)
    expiring = ok(api, "GET", "/pharmacy/medicines/expiring?days=3650", owner)
    found = ok(api, "GET", "/pharmacy/medicines/search?keyword=para&stockStatus=lowStock", owner)
    stats = ok(api, "GET", "/pharmacy/stats", owner)
    # Then every answer validated, and holds what the pharmacist sees
    assert mine["pharmacy"]["licenseNumber"] == "MH-PUN-12345" and mine["pharmacy"]["isVerified"] is True
    assert changed["pharmacy"]["deliveryRadius"] == 8
    assert updated["medicine"]["price"] == 22.5 and updated["medicine"]["lowStock"] is True
    assert (bulk["inserted"], bulk["failed"]) == (1, 1) and bulk["results"][1]["errors"]
    assert [r["ok"] for r in stock["results"]] == [True, False]
    assert [m["name"] for m in low["medicines"]] == ["Paracetamol"]
    assert expiring["count"] == 2 and [m["name"] for m in found["medicines"]] == ["Paracetamol"]
    assert stats["stats"]["medicines"] == {"total": 2, "active": 2, "lowStock": 1}
    assert pharmacy["verificationStatus"] == "pending"  # as registered, before the admin


def test_the_catalogue_answers_what_the_document_says(api, shop):
    # Given a listed medicine of a verified pharmacy
    pharmacy, medicine = shop["pharmacy"], shop["medicine"]
    # When anyone browses the catalogue and the directory
    listing = ok(api, "GET", "/medicines?page=1&limit=20&sortBy=price-low&city=Pune", None)
    search = ok(api, "GET", "/medicines/search?q=para", None)
    categories = ok(api, "GET", "/medicines/categories", None)
    featured = ok(api, "GET", "/medicines/featured", None)
    one = ok(api, "GET", f"/medicine/{medicine['_id']}", None)
    of_shop = ok(api, "GET", f"/pharmacy/{pharmacy['_id']}/medicines", None)
    shops = ok(api, "GET", "/pharmacies?city=pune", None)
    public = ok(api, "GET", f"/pharmacy/{pharmacy['_id']}", None)
    # Then every answer validated, with the pharmacy summary the store page reads
    assert listing["medicines"][0]["pharmacy"]["name"] == "Good Health Pharmacy"
    assert listing["pagination"] == {"total": 1, "page": 1, "pages": 1, "limit": 20}
    assert search["medicines"][0]["pharmacy"]["_id"] == pharmacy["_id"]
    assert categories["categories"] == ["Pain Relief"] and categories["counts"] == {"Pain Relief": 1}
    assert featured["count"] == 1 and one["medicine"]["_id"] == medicine["_id"]
    assert of_shop["medicines"][0]["pharmacy"] == pharmacy["_id"]
    assert shops["count"] == 1 and "licenseNumber" not in public["pharmacy"]


def test_orders_and_their_administration_answer_what_the_document_says(api, shop):
    # Given a patient and the verified pharmacy
    owner, admin, pharmacy = shop["owner"], shop["admin"], {"_id": shop["pharmacy"]["_id"]}
    customer = patient()
    medicine = shop["medicine"]
    # When the patient orders (cash, then online), the pharmacy delivers one and the patient rates it
    placed = ok(api, "POST", "/orders", customer, 201, json=order_body(pharmacy, [(medicine, 2)]))["order"]
    online = ok(api, "POST", "/orders", customer, 201,
                json=order_body(pharmacy, [(medicine, 1)], paymentInfo={"method": "online"}))["order"]
    for status in ("confirmed", "preparing", "ready", "dispatched", "delivered"):
        moved = ok(api, "PUT", f"/order/{placed['_id']}/status", owner, json={"status": status, "note": status})
    rated = ok(api, "PUT", f"/order/{placed['_id']}/rate", customer, json={"rating": 5, "review": "Quick"})
    cancelled = ok(api, "PUT", f"/order/{online['_id']}/cancel", customer, json={"reason": "Changed my mind"})
    # And everyone reads the orders and the figures
    mine = ok(api, "GET", "/orders/my", customer)
    theirs = ok(api, "GET", "/pharmacy/orders", owner)
    read = ok(api, "GET", f"/order/{placed['_id']}", owner)
    report = ok(api, "GET", "/pharmacy/report", owner)
    admin_orders = ok(api, "GET", "/admin/orders", admin)
    admin_order = ok(api, "GET", f"/admin/order/{placed['_id']}", admin)
    pharmacies = ok(api, "GET", "/admin/pharmacies", admin)
    analytics = ok(api, "GET", "/admin/analytics", admin)
    deleted = ok(api, "DELETE", f"/pharmacy/medicine/{medicine['_id']}", owner)
    # Then every answer validated, with what each screen reads
    assert placed["pricing"]["totalPrice"] == 90 and online["paymentInfo"]["holdExpiresAt"]
    assert moved["order"]["deliveredAt"] and rated["order"]["rating"] == 5
    assert cancelled["order"]["cancellationReason"] == "Changed my mind"
    assert {o["orderNumber"] for o in mine["orders"]} == {placed["orderNumber"], online["orderNumber"]}
    assert theirs["orders"][0]["customer"]["name"] == customer["name"]
    assert read["order"]["pharmacy"]["name"] == "Good Health Pharmacy"
    assert report["report"]["summary"]["topSellingMedicine"] == "Paracetamol"
    assert {o["status"] for o in admin_orders["orders"]} == {"delivered", "cancelled"}
    assert admin_order["order"]["orderNumber"] == placed["orderNumber"]
    assert pharmacies["pharmacies"][0]["owner"] == str(owner["_id"]) and analytics["analytics"]["totalOrders"] == 2
    assert deleted["message"] == "Medicine deleted successfully"


def test_refusals_are_the_documented_error_envelope_with_a_documented_code(api, shop):
    # Given the verified pharmacy and a patient
    customer = patient()
    # When the patient orders from a pharmacy that does not exist, or too much
    unknown = call(api, "POST", "/orders", as_=customer, json=order_body({"_id": "0" * 24}, [(shop["medicine"], 1)]))
    too_much = call(api, "POST", "/orders", as_=customer,
                    json=order_body({"_id": shop["pharmacy"]["_id"]}, [(shop["medicine"], 99)]))
    # Then each is the error envelope with a code the route documents
    assert documented(unknown, "POST", "/orders")["code"] == "NOT_FOUND"
    assert documented(too_much, "POST", "/orders")["code"] in ("OUT_OF_STOCK", "ORDER_LIMIT")


def test_a_drifted_answer_fails_its_documented_schema(api, shop):
    # Given a real answer of the catalogue
    answer = ok(api, "GET", f"/medicine/{shop['medicine']['_id']}", None)
    schema = schema_of("GET", f"/medicine/{shop['medicine']['_id']}", 200)
    # When a field is renamed, added, or becomes a string where the UI renders a number
    renamed = {**answer, "medicine": {**{k: v for k, v in answer["medicine"].items() if k != "price"},
                                      "cost": answer["medicine"]["price"]}}
    as_text = {**answer, "medicine": {**answer["medicine"], "price": str(answer["medicine"]["price"])}}
    # Then each fails the validation the tests apply to every answer
    for drifted in (renamed, as_text):
        with pytest.raises(ValidationError):
            validate(schema, drifted)


ENVELOPE = "#/components/schemas/SuccessEnvelope"
PHARMACY_PATHS = [path for path in document()["paths"]
                  if any(op.get("tags") == ["pharmacy"] for op in document()["paths"][path].values())]


def test_every_pharmacy_route_documents_its_answer_codes_and_a_sentence():
    # Given the document's pharmacy operations
    operations = [(path, method, op) for path in PHARMACY_PATHS for method, op in document()["paths"][path].items()]
    # Then each has a response model, its error codes and a summary a person wrote
    assert len(operations) == 34  # POST /pharmacy/quick-setup included (the dev stage's document)
    for path, method, op in operations:
        success = next(v for k, v in op["responses"].items() if k.startswith("2"))
        assert success["content"]["application/json"]["schema"] != {"$ref": ENVELOPE}, path
        assert op.get("x-error-codes"), (method, path)
        assert len(op["summary"].split()) >= 5 and op["summary"].endswith("."), (method, path, op["summary"])


def test_the_examples_are_valid_answers_and_bodies():
    # Given the examples of the main flows (placing an order, the catalogue)
    checked = 0
    for path in PHARMACY_PATHS:
        for op in document()["paths"][path].values():
            responses = next(v for k, v in op["responses"].items() if k.startswith("2"))["content"]["application/json"]
            for example in responses.get("examples", {}).values():
                # Then each response example is what the route documents
                validate(responses["schema"], example["value"])
                checked += 1
    assert checked >= 2
    assert "cash on delivery" in document()["paths"]["/api/v1/orders"]["post"]["requestBody"]["content"][
        "application/json"]["examples"]


# The fields the existing frontend reads (frontend-contract.md rows 21-40), by route: each must be
# required by the document (a client generating types gets them as non-optional).
FRONTEND_READS = {
    ("GET", "/pharmacy/my"): ["pharmacy.name", "pharmacy.isVerified", "pharmacy.status", "pharmacy.rating",
                              "pharmacy.totalReviews"],
    ("GET", "/pharmacy/stats"): ["stats.medicines.total", "stats.medicines.active", "stats.medicines.lowStock",
                                 "stats.orders.total", "stats.orders.pending", "stats.orders.today"],
    ("GET", "/pharmacy/medicines/search"): ["medicines[].name", "medicines[].manufacturer", "medicines[].strength",
                                            "medicines[].category", "medicines[].price", "medicines[].mrp",
                                            "medicines[].stock", "medicines[].minStock", "medicines[].expiryDate"],
    ("GET", "/pharmacy/orders"): ["orders[].orderNumber", "orders[].items", "orders[].pricing.totalPrice",
                                  "orders[].orderStatus", "orders[].createdAt"],
    ("GET", "/medicines/categories"): ["categories"],
    ("GET", "/medicines"): ["medicines[].pharmacy", "medicines[].images", "medicines[].rating", "pagination.pages",
                            "pagination.total"],
    ("GET", "/orders/my"): ["orders[].orderNumber", "orders[].createdAt", "orders[].orderStatus",
                            "orders[].pharmacy", "orders[].pricing.totalPrice", "orders[].pricing.itemsPrice",
                            "orders[].pricing.deliveryCharge", "orders[].paymentInfo.method", "orders[].items",
                            "orders[].shippingAddress"],
    ("GET", "/admin/pharmacies"): ["pharmacies[]._id", "pharmacies[].name", "pharmacies[].licenseNumber",
                                   "pharmacies[].owner", "pharmacies[].contactInfo.phone",
                                   "pharmacies[].address.city", "pharmacies[].verificationStatus",
                                   "pharmacies[].createdAt"],
    ("GET", "/admin/orders"): ["orders[]._id", "orders[].createdAt", "orders[].orderNumber",
                               "orders[].pharmacyId.name", "orders[].userId.name", "orders[].totalAmount",
                               "orders[].status"],
}


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document()["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def required_type(schema: dict[str, Any], dotted: str) -> dict[str, Any]:
    """The schema of `dotted` in `schema`, asserting each step is a required property."""
    for step in dotted.split("."):
        many = step.endswith("[]")
        name = step.removesuffix("[]")
        schema = _resolve(schema)
        assert name in schema.get("required", []), f"{dotted}: {name} is not required"
        schema = _resolve(schema["properties"][name])
        if many:
            assert schema["type"] == "array", dotted
            schema = schema["items"]
    return _resolve(schema)


@pytest.mark.parametrize(("route", "fields"), list(FRONTEND_READS.items()), ids=lambda v: str(v))
def test_the_fields_the_frontend_reads_are_required_with_the_type_it_renders(route, fields):
    # Given the documented answer of a route the frontend calls
    method, path = route
    schema = document()["paths"][template(method, path)][method.lower()]["responses"]["200"]["content"][
        "application/json"]["schema"]
    # Then each field it reads is required, and those it prints as text or rupees have that type
    for dotted in fields:
        field = required_type(schema, dotted)
        types = {field.get("type"), *(option.get("type") for option in field.get("anyOf", []))} - {None, "null"}
        leaf = dotted.rsplit(".", 1)[-1]
        if leaf in ("price", "mrp", "totalPrice", "itemsPrice", "deliveryCharge", "totalAmount"):
            assert types == {"number"}, (dotted, field)
        if leaf in ("owner", "name", "orderNumber", "licenseNumber"):
            assert types == {"string"}, (dotted, field)
    if path == "/medicines/categories":
        assert required_type(schema, "categories")["items"] == {"type": "string"}

