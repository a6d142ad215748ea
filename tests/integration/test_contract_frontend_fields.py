"""Issue 23: the fields the existing frontend reads (/work/shared/frontend-contract.md, "Every
call") are in the documented answer models, with the JSON type the frontend renders. The test hook
(tests/contract_schema.py) then proves the answers keep them."""

from __future__ import annotations

from typing import Any

import pytest

from functions.core import openapi

# (method, path, status, {field path: JSON type}); `a[].b` is field b of the items of array a.
FRONTEND = [
    ("post", "/api/v1/register", "201", {"user._id": "string", "user.name": "string", "user.role": "string"}),
    ("post", "/api/v1/login", "200", {"user._id": "string", "user.role": "string", "token": "string"}),
    ("get", "/api/v1/me", "200", {"user._id": "string", "user.name": "string", "user.role": "string",
                                  "user.contact": "string", "user.speciality": "string", "user.avatar.url": "string",
                                  "user.availability": "boolean", "user.createdAt": "string"}),
    ("post", "/api/v1/medical-history", "201", {"medicalHistory": "array"}),
    ("get", "/api/v1/medical-history/{user_id}", "200", {
        "medicalHistory[]._id": "string", "medicalHistory[].analysis": "string",
        "medicalHistory[].image.url": "string", "medicalHistory[].url": "string",
        "medicalHistory[].createdAt": "string"}),
    ("get", "/api/v1/doctors", "200", {"doctors[]._id": "string", "doctors[].name": "string",
                                       "doctors[].speciality": "string", "doctors[].avatar.url": "string",
                                       "doctors[].availability": "boolean"}),
    ("get", "/api/v1/appointment/slots/{doctor_id}/{day}", "200", {"availableSlots[]": "string"}),
    ("post", "/api/v1/appointment/new", "201", {"appointment._id": "string"}),
    ("get", "/api/v1/appointment/my", "200", {
        "appointments[].day": "string", "appointments[].time": "string", "appointments[].status": "string",
        "appointments[].description": "string", "appointments[].symptoms": "string",
        "appointments[].roomId": "string", "appointments[].createdAt": "string",
        "appointments[].doctor.name": "string", "appointments[].doctor.speciality": "string",
        "appointments[].patient._id": "string", "appointments[].patient.name": "string",
        "appointments[].patient.contact": "string"}),
    ("get", "/api/v1/patient/{patient_id}/complete-data", "200", {"data": "object"}),
    ("get", "/api/v1/user/{user_id}", "200", {"success": "boolean", "user.name": "string", "user.role": "string"}),
    ("post", "/api/v1/notify-doctor-joined", "200", {"success": "boolean", "data.patientName": "string"}),
]

# The other domains' calls (their models came with branch i23-models).
FRONTEND += [pytest.param(*row) for row in [
    ("post", "/api/v1/prescription/new", "201", {"prescription._id": "string"}),
    ("get", "/api/v1/prescriptions", "200", {
        "prescriptions[]._id": "string", "prescriptions[].prescriptionNumber": "string",
        "prescriptions[].createdAt": "string", "prescriptions[].doctor.name": "string",
        "prescriptions[].patient.name": "string", "prescriptions[].diagnosis": "string",
        "prescriptions[].medications": "array"}),
    ("get", "/api/v1/prescription/{prescription_id}", "200", {"prescription._id": "string"}),
    ("post", "/api/v1/analyze", "200", {"analysis": "string"}),
    ("get", "/api/v1/pharmacy/my", "200", {"pharmacy.name": "string", "pharmacy.isVerified": "boolean",
                                           "pharmacy.rating": "number", "pharmacy.totalReviews": "integer"}),
    ("get", "/api/v1/pharmacy/stats", "200", {"stats.medicines.total": "integer", "stats.medicines.lowStock": "integer",
                                              "stats.orders.total": "integer", "stats.orders.today": "integer"}),
    ("get", "/api/v1/pharmacy/medicines/search", "200", {
        "medicines[].name": "string", "medicines[].price": "number", "medicines[].mrp": "number",
        "medicines[].stock": "integer", "medicines[].minStock": "integer", "medicines[].expiryDate": "string"}),
    ("get", "/api/v1/medicines/categories", "200", {"categories[]": "string"}),
    ("get", "/api/v1/medicines", "200", {"medicines[].pharmacy._id": "string", "medicines[].pharmacy.name": "string",
                                         "medicines[].images[].url": "string", "pagination.pages": "integer",
                                         "pagination.total": "integer"}),
    ("post", "/api/v1/orders", "201", {"order._id": "string"}),
    ("get", "/api/v1/orders/my", "200", {
        "orders[].orderNumber": "string", "orders[].orderStatus": "string", "orders[].pharmacy.name": "string",
        "orders[].pricing.totalPrice": "number", "orders[].paymentInfo.method": "string"}),
    ("get", "/api/v1/pharmacy/orders", "200", {"orders[].orderNumber": "string", "orders[].customer.name": "string",
                                               "orders[].pricing.totalPrice": "number"}),
    ("get", "/api/v1/admin/pharmacies", "200", {"pharmacies[]._id": "string", "pharmacies[].owner": "string",
                                                "pharmacies[].verificationStatus": "string"}),
    ("get", "/api/v1/admin/orders", "200", {"orders[]._id": "string", "orders[].orderNumber": "string",
                                            "orders[].pharmacyId.name": "string", "orders[].userId.name": "string",
                                            "orders[].totalAmount": "number", "orders[].status": "string"}),
]]


def _types(schema: dict[str, Any], components: dict[str, Any]) -> list[dict[str, Any]]:
    """The alternatives a schema allows (refs followed, allOf merged, anyOf/oneOf spread)."""
    if "$ref" in schema:
        return _types(components[schema["$ref"].rsplit("/", 1)[-1]], components)
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            for alt in _types(part, components):
                merged.setdefault("properties", {}).update(alt.get("properties", {}))
                merged.update({k: v for k, v in alt.items() if k != "properties"})
        return [merged]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return [alt for part in schema[key] for alt in _types(part, components)]
    return [schema]


def _field_types(schema: dict[str, Any], path: str, components: dict[str, Any]) -> set[str]:
    current = [schema]
    for step in path.split("."):
        name, many = (step[:-2], True) if step.endswith("[]") else (step, False)
        nxt = []
        for alt in (a for s in current for a in _types(s, components)):
            if name in alt.get("properties", {}):
                nxt.append(alt["properties"][name])
        assert nxt, f"{path}: no field {name!r}"
        if many:
            nxt = [a["items"] for s in nxt for a in _types(s, components) if a.get("type") == "array"]
            assert nxt, f"{path}: {name!r} is not an array"
        current = nxt
    found: set[str] = set()
    for alt in (a for s in current for a in _types(s, components)):
        kind = alt.get("type") or ("boolean" if isinstance(alt.get("const"), bool) else None)
        found |= set(kind) if isinstance(kind, list) else {kind or "any"}
    return found - {"null"}


@pytest.mark.parametrize(("method", "path", "status", "fields"), FRONTEND)
def test_the_fields_the_frontend_reads_are_documented_with_the_type_it_renders(method, path, status, fields):
    from app import app

    # Given the document and the success answer of a call the frontend makes
    document = openapi.build(app, stage="prod")
    responses = document["paths"][path][method]["responses"]
    assert status in responses, f"{method} {path} declares no {status} answer model: {sorted(responses)}"
    schema = responses[status]["content"]["application/json"]["schema"]
    # Then every field it reads is in the model, with the type it renders
    for field, kind in fields.items():
        assert _field_types(schema, field, document["components"]["schemas"]) == {kind}, field
