"""Hospitals for the emergency line: admin CRUD and the nearest-hospital lookup."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bson import ObjectId

from functions.core import clock
from functions.core.db import object_id
from functions.core.errors import NotFound
from functions.emergency.schemas import HospitalIn, HospitalsQuery, HospitalUpdateIn
from functions.emergency.stores import hospitals as store

SAY_AT_MOST = 3
RANK = {"public": 0, "private": 1}  # the order hospitals are read out in


def _derived(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The lookup keys kept beside what the admin typed."""
    out: dict[str, Any] = {}
    if "city" in fields:
        out["cityKey"] = " ".join(str(fields["city"]).split()).casefold()
    if "pincode" in fields:
        out["pincodeArea"] = str(fields["pincode"])[:3]
    if "kind" in fields:
        out["rank"] = RANK[str(fields["kind"])]
    return out


def to_api(doc: Mapping[str, Any]) -> dict[str, Any]:
    return {k: doc.get(k) for k in ("_id", "name", "phone", "address", "city", "pincode", "kind", "emergency",
                                    "active", "createdAt", "updatedAt")}


def create(body: HospitalIn) -> dict[str, Any]:
    now = clock.now()
    fields = body.model_dump()
    doc = {"_id": ObjectId(), **fields, **_derived(fields), "createdAt": now, "updatedAt": now}
    store.insert_hospital(doc)
    return to_api(doc)


def read(hospital_id: str) -> dict[str, Any]:
    found = store.get_hospital(object_id(hospital_id, "Hospital"))
    if found is None:
        raise NotFound.of("Hospital")
    return to_api(found)


def update(hospital_id: str, body: HospitalUpdateIn) -> dict[str, Any]:
    fields = body.model_dump(exclude_unset=True)
    changes = {**fields, **_derived(fields), "updatedAt": clock.now()}
    found = store.update_hospital(object_id(hospital_id, "Hospital"), changes)
    if found is None:
        raise NotFound.of("Hospital")
    return to_api(found)


def delete(hospital_id: str) -> None:
    if not store.delete_hospital(object_id(hospital_id, "Hospital")):
        raise NotFound.of("Hospital")


def listing(query: HospitalsQuery) -> tuple[list[dict[str, Any]], int]:
    filters: dict[str, Any] = {"active": query.active}
    if query.pincode:
        filters["pincode"] = query.pincode
    if query.city:
        filters["cityKey"] = " ".join(query.city.split()).casefold()
    items, total = store.list_hospitals(filters, query.skip, query.limit)
    return [to_api(h) for h in items], total


def nearest(pincode: str | None, city: str | None, limit: int = SAY_AT_MOST) -> list[dict[str, Any]]:
    """Same pincode, else the same postal area (first three digits), else the same city."""
    keys: list[tuple[str, str]] = []
    if pincode:
        keys += [("pincode", pincode), ("pincodeArea", pincode[:3])]
    if city:
        keys.append(("cityKey", " ".join(city.split()).casefold()))
    for field, value in keys:
        found = store.nearest(field, value, limit)
        if found:
            return found
    return []
