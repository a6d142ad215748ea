"""Read-only lookups of `users` (owned by auth) that the pharmacy domain needs: names for joins
and contacts for notifications. Never writes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bson import ObjectId

from functions.core.db import get_db

_CONTACT = {"name": 1, "contact": 1, "contactType": 1, "role": 1}


def contacts(ids: Sequence[ObjectId]) -> dict[ObjectId, dict[str, Any]]:
    """Name and contact of each user (one `$in` read by `_id`)."""
    if not ids:
        return {}
    return {doc["_id"]: doc for doc in get_db()["users"].find({"_id": {"$in": list(set(ids))}}, _CONTACT)}


def count_role(role: str, since: Any = None) -> int:
    query: dict[str, Any] = {"role": role}
    if since is not None:
        query["createdAt"] = {"$gte": since}
    return int(get_db()["users"].count_documents(query))


def by_contact(contact: str) -> dict[str, Any] | None:
    """The account with that (normalised) contact, by its unique index."""
    found: dict[str, Any] | None = get_db()["users"].find_one({"contact": contact}, {**_CONTACT, "approvalStatus": 1})
    return found
