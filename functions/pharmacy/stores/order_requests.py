"""The `order_requests` collection.

The `order_requests` collection: an `Idempotency-Key` is a claim document keyed by `_id` =
customer|key. The first request inserts it; a retry finds it and gets the same order (no second
stock take).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, IndexModel

from functions.core.db import get_db, insert_unless_duplicate

REQUESTS = "order_requests"

INDEXES = {
    REQUESTS: [IndexModel([("customer", ASCENDING)], name="customer"),
               IndexModel([("day", ASCENDING)], name="by_day")],  # the sweeper drops the claims of past days
}


def _coll() -> Any:
    return get_db()[REQUESTS]


def claim(key: str, customer: ObjectId, order_id: ObjectId, fingerprint: str, now: datetime) -> dict[str, Any] | None:
    """Claim an idempotency key for `order_id`. None when claimed now; the earlier claim when
    the key was used before (by this customer: the key is namespaced by the caller). The claim
    carries its UTC `day` so the sweeper can drop old claims by an indexed equality."""
    if insert_unless_duplicate(_coll(), {"_id": key, "customer": customer, "orderId": order_id,
                                         "fingerprint": fingerprint, "createdAt": now,
                                         "day": f"{now.astimezone(UTC).date():%Y-%m-%d}"}):
        return None
    earlier: dict[str, Any] | None = _coll().find_one({"_id": key})
    return earlier


def release(key: str, order_id: ObjectId) -> None:
    """Drop a claim whose order was not created, so a retry can try again."""
    _coll().delete_one({"_id": key, "orderId": order_id})


def purge_day(day: str) -> int:
    """Drop the idempotency claims made on that UTC day (one `delete_many` on the indexed `day`)."""
    return int(_coll().delete_many({"day": day}).deleted_count)
