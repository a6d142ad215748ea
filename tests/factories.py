"""Test data written straight to the database (no HTTP), and tokens for it."""

from __future__ import annotations

import itertools
from functools import cache
from typing import Any

from functions.core import clock
from functions.core.db import get_db
from functions.core.security import issue_token

PASSWORD = "correct-horse-battery"
_counter = itertools.count(1)


@cache
def password_hash() -> str:
    from functions.core.security import hash_password

    return hash_password(PASSWORD)


def make_user(role: str = "patient", *, approved: bool = True, **fields: Any) -> dict[str, Any]:
    n = next(_counter)
    doc: dict[str, Any] = {
        "name": f"{role.title()} Number{n}",
        "contact": f"{role}{n}@example.test",
        "contactType": "email",
        "passwordHash": password_hash(),
        "role": role,
        "approvalStatus": "approved" if approved or role in ("patient", "admin") else "pending",
        "active": True,
        "contactVerified": True,  # test users have verified their contact (SMS go to verified numbers only)
        "sessionVersion": 0,
        "revokedTokens": [],
        "createdAt": clock.now(),
        "updatedAt": clock.now(),
    }
    if role == "doctor":
        doc.update({"speciality": "general", "timezone": "Asia/Kolkata", "consultationFee": 50000,
                    "currency": "INR", "languages": ["en"], "bio": ""})
    doc.update(fields)
    doc.setdefault("nameKey", doc["name"].casefold())  # the directory's search key, as registration sets it
    doc["_id"] = get_db()["users"].insert_one(doc).inserted_id
    return doc


def bearer(user: dict[str, Any]) -> dict[str, str]:
    token, _ = issue_token(user)
    return {"Authorization": f"Bearer {token}"}


def json_headers(user: dict[str, Any] | None = None) -> dict[str, str]:
    headers = {"Content-Type": "application/json"}
    if user is not None:
        headers.update(bearer(user))
    return headers
