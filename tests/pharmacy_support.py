"""Helpers shared by the pharmacy, inventory, catalogue, order and report tests.

Data is written with the domain's own builders (the same documents the API writes); requests go
through the test client. Money in these bodies and builders is in rupees, as clients send it; the
builders store paise (a ₹25 medicine is stored as 2500). `race(...)` runs requests at the same
moment in separate processes through the real Lambda entry point, as concurrent invocations run in
separate containers.
"""

from __future__ import annotations

import json
import struct
import zlib
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.factories import make_user
from tests.http import API as API  # re-exported
from tests.http import body as body  # re-exported
from tests.lambda_race import race as race  # re-exported for the orders races
from tests.media_support import FakeCloudinaryHttp


def pharmacist(**fields: Any) -> dict[str, Any]:
    return make_user("pharmacist", **fields)


def patient(**fields: Any) -> dict[str, Any]:
    return make_user("patient", **fields)


def registration(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Good Health Pharmacy",
        "description": "Open late",
        "address": {"street": "12 MG Road", "city": "Pune", "state": "Maharashtra", "pincode": "411001"},
        "contactInfo": {"phone": "+919812345678", "email": "shop@example.com"},
        "licenseNumber": "MH-PUN-12345",
        "establishedYear": 2015,
        "operatingHours": {"weekdays": {"open": "09:00", "close": "21:00"},
                           "weekends": {"open": "10:00", "close": "18:00"}},
        "deliveryRadius": 5,
        "deliveryCharges": 40,
        "freeDeliveryAbove": 500,
    }
    data.update(overrides)
    return data


_licence = iter(range(10_000, 99_999))


def make_pharmacy(owner: dict[str, Any] | None = None, *, verification: str = "verified", **overrides: Any
                  ) -> dict[str, Any]:
    """A pharmacy in the database as registration (and then an admin) would leave it."""
    from functions.pharmacy import pharmacies
    from functions.pharmacy.schemas import PharmacyIn
    from functions.pharmacy.status import is_listed
    from functions.pharmacy.stores import pharmacies as store

    owner = owner or pharmacist()
    data = PharmacyIn.model_validate(registration(licenseNumber=f"LIC-{next(_licence)}"))
    doc = pharmacies.new_pharmacy(owner["_id"], data, verified=verification == "verified")
    doc.update({"verificationStatus": verification, "isVerified": verification == "verified",
                "listed": is_listed(verification, overrides.get("status", "active")), **overrides})
    assert store.insert(doc) is None
    doc["ownerUser"] = owner
    return doc


def medicine_fields(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Paracetamol", "genericName": "Acetaminophen", "category": "Pain Relief", "manufacturer": "Cipla",
        "composition": "Paracetamol 500 mg", "strength": "500 mg", "packSize": "10 tablets", "batchNumber": "B1",
        "formType": "Tablet", "price": 25, "mrp": 30, "stock": 50, "minStock": 10,
        "expiryDate": "2027-12-31", "prescriptionRequired": False,
    }
    data.update(overrides)
    if "mrp" not in overrides and isinstance(data["price"], int | float):
        data["mrp"] = max(data["mrp"], data["price"])
    return data


def make_medicine(pharmacy: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    from functions.pharmacy import inventory
    from functions.pharmacy.schemas import MedicineIn
    from functions.pharmacy.stores import medicines

    doc = inventory.new_doc(pharmacy, MedicineIn.model_validate(medicine_fields(**overrides)))
    medicines.insert(doc)
    return doc


def order_body(pharmacy: dict[str, Any], items: list[tuple[dict[str, Any], int]], **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "pharmacyId": str(pharmacy["_id"]),
        "items": [{"medicine": str(m["_id"]), "quantity": q} for m, q in items],
        "shippingAddress": {"fullName": "Asha Rao", "phone": "+919800000001", "street": "1 Lake View",
                            "city": "Pune", "state": "Maharashtra", "pincode": "411002"},
        "paymentInfo": {"method": "cod"},
        "deliveryInfo": {"type": "delivery"},
    }
    data.update(extra)
    return data


def stock_of(db: Any, medicine: dict[str, Any]) -> int:
    return int(db["medicines"].find_one({"_id": medicine["_id"]})["stock"])


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


# ---------------------------------------------------------------- forms, images, Cloudinary


def png_bytes() -> bytes:
    raw = b"\x00\xff\x00\x00"
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def multipart(fields: dict, files: dict | None = None, boundary: str = "XyZbOuNdArY") -> tuple[bytes, str]:
    parts = []
    for name, value in fields.items():
        text = json.dumps(value) if isinstance(value, dict | list) else str(value)
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{text}\r\n'.encode())
    for name, (filename, ctype, data) in (files or {}).items():
        head = (f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                f"Content-Type: {ctype}\r\n\r\n").encode()
        parts.append(head + data + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


@pytest.fixture(name="cloudinary")
def cloudinary_fixture(monkeypatch):
    import cloudinary.uploader

    from functions.core import config

    fake = FakeCloudinaryHttp()  # the one fake of Cloudinary's transport (tests/media_support.py)
    monkeypatch.setattr(cloudinary.uploader, "_http", fake)
    monkeypatch.setenv("CLOUDINARY_URL", "cloudinary://key123:secret456@demo")
    config.reset_settings()
    return fake
