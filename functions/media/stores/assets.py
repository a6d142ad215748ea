"""`media_assets`: uploaded assets keyed by Cloudinary's `public_id` (Cloudinary's retried
notifications hit the `_id` and change nothing); the only module issuing commands to it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, IndexModel, ReturnDocument

from functions.core.db import get_db, insert_unless_duplicate
from functions.media.status import ACTIVE, DESTROYED

ASSETS = "media_assets"

INDEXES = {ASSETS: [IndexModel([("ownerId", ASCENDING), ("purpose", ASCENDING)], name="owner_purpose")]}


def insert_asset(doc: dict[str, Any]) -> bool:
    """Record an asset once; False if that public id is recorded already."""
    return insert_unless_duplicate(get_db()[ASSETS], doc)


def owned(owner_id: ObjectId, purpose: str, public_ids: Sequence[str]) -> list[dict[str, Any]]:
    """The owner's active assets of that purpose among `public_ids` (one read)."""
    cursor = get_db()[ASSETS].find({"ownerId": owner_id, "purpose": purpose, "status": ACTIVE,
                                    "_id": {"$in": list(public_ids)}})
    return list(cursor)


def set_status(public_id: str, owner_id: ObjectId | None, sources: Sequence[str], status: str,
               now: datetime) -> bool:
    """Move one asset (of that owner, when given) from one of `sources` to `status`."""
    query: dict[str, Any] = {"_id": public_id, "status": {"$in": list(sources)}}
    if owner_id is not None:
        query["ownerId"] = owner_id
    result = get_db()[ASSETS].update_one(query, {"$set": {"status": status, "updatedAt": now}})
    return result.modified_count == 1


def retire(public_id: str, owner_id: ObjectId, now: datetime) -> dict[str, Any] | None:
    """Mark an active asset of that owner destroyed; the asset before, or None if it was not
    theirs or not active (so only one caller goes on to delete it in Cloudinary)."""
    found: dict[str, Any] | None = get_db()[ASSETS].find_one_and_update(
        {"_id": public_id, "ownerId": owner_id, "status": ACTIVE},
        {"$set": {"status": DESTROYED, "updatedAt": now}}, return_document=ReturnDocument.BEFORE)
    return found


def of_owner(owner_id: ObjectId, limit: int) -> list[dict[str, Any]]:
    """The owner's assets, any status (the erase of an account): id, status and resource type."""
    return list(get_db()[ASSETS].find({"ownerId": owner_id}, {"status": 1, "resourceType": 1}).limit(limit))


def delete_of_owner(owner_id: ObjectId) -> int:
    """The owner's asset records gone (the erase of an account, after their files)."""
    return int(get_db()[ASSETS].delete_many({"ownerId": owner_id}).deleted_count)
