"""`Idempotency-Key`: a retried request gets the answer of the first one, and does its work once.

The key is claimed before the work starts: one insert into `idempotency_keys` (owner: this
module) keyed by scope, caller and key, naming the resource the work will create. A retry with
the same key finds the claim: the same body replays the stored resource, another body is 422
`IDEMPOTENCY_KEY_REUSED`, and a claim whose resource is not stored yet (the first request still
running, or it died) is 409 `REQUEST_IN_PROGRESS`. Work that fails releases its claim, so the
retry can try again. Claims live two to three days (a client retries within minutes), dropped by
the sweep by their indexed UTC `day`.

    earlier = idempotency.claim("order", caller.id, key, order_id, idempotency.fingerprint(body), now)
    if earlier is not None:
        return replay(idempotency.resource_of(earlier, fingerprint))
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, IndexModel

from functions.core.db import get_db, insert_unless_duplicate
from functions.core.errors import Code, Unprocessable

KEYS = "idempotency_keys"
PURGE_DAYS = (2, 3)  # claims of these many UTC days ago go; a missed sweep day is caught by the next

INDEXES = {KEYS: [IndexModel([("day", ASCENDING)], name="by_day")]}


def _keys() -> Any:
    return get_db()[KEYS]


def fingerprint(payload: Any) -> str:
    """The identity of a request body, to refuse a key reused for different work."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def _id(scope: str, caller: ObjectId, key: str) -> str:
    return f"{scope}:{caller}:{hashlib.sha256(key.encode()).hexdigest()[:40]}"


def claim(scope: str, caller: ObjectId, key: str, resource: ObjectId, fingerprint: str,
          now: datetime) -> dict[str, Any] | None:
    """Claim `key` of `caller` for the `resource` the work will create. None when claimed now;
    the earlier claim when the key was used before."""
    claim_id = _id(scope, caller, key)
    if insert_unless_duplicate(_keys(), {"_id": claim_id, "resource": resource, "fingerprint": fingerprint,
                                         "createdAt": now, "day": f"{now.astimezone(UTC).date():%Y-%m-%d}"}):
        return None
    earlier: dict[str, Any] | None = _keys().find_one({"_id": claim_id})
    return earlier


def resource_of(earlier: dict[str, Any], fingerprint: str) -> ObjectId:
    """The resource of an earlier claim, or 422 when that claim was for a different body."""
    if earlier.get("fingerprint") != fingerprint:
        raise Unprocessable("This Idempotency-Key was used for a different request", code=Code.IDEMPOTENCY_KEY_REUSED)
    resource: ObjectId = earlier["resource"]
    return resource


def release(scope: str, caller: ObjectId, key: str, resource: ObjectId) -> None:
    """Drop the claim of work that was not done, so a retry can try again."""
    _keys().delete_one({"_id": _id(scope, caller, key), "resource": resource})


def sweep(now: datetime) -> dict[str, int]:
    """Drop the claims of past days."""
    dropped = sum(int(_keys().delete_many({"day": f"{(now - timedelta(days=d)).astimezone(UTC).date():%Y-%m-%d}"})
                      .deleted_count) for d in PURGE_DAYS)
    return {"idempotencyKeysDropped": dropped}
