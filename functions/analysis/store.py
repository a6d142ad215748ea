"""MongoDB access of analysis: per-user hourly usage counters (`analysis_usage`), keyed by
user and hour so the rate limit is one conditional upsert."""

from __future__ import annotations

from datetime import datetime, timedelta

from pymongo import ASCENDING, IndexModel
from pymongo.errors import DuplicateKeyError, OperationFailure

from functions.core.db import get_db, is_duplicate_key

USAGE = "analysis_usage"

INDEXES = {USAGE: [IndexModel([("expiresAt", ASCENDING)], expireAfterSeconds=0, name="expires_ttl")]}


def take(key: str, limit: int, now: datetime) -> bool:
    """Count one use under `key` unless it has reached `limit`. The counter is incremented only
    while below the limit; at the limit the upsert's insert hits the existing `_id` and fails,
    so concurrent requests can never pass together. A duplicate key can also mean another
    request created the counter a moment ago: then one plain conditional increment decides."""
    coll = get_db()[USAGE]
    query = {"_id": key, "count": {"$lt": limit}}
    try:
        coll.update_one(query, {"$inc": {"count": 1}, "$setOnInsert": {"expiresAt": now + timedelta(hours=2)}},
                        upsert=True)
    except (DuplicateKeyError, OperationFailure) as exc:
        if not is_duplicate_key(exc):
            raise
        return coll.update_one(query, {"$inc": {"count": 1}}).modified_count == 1
    return True
