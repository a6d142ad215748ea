"""`payments`: one document per payable thing, keyed by `_id` = "<kind>:<id>" (so there is
exactly one, whatever races); the only module issuing commands to it.

Status changes are conditional single-document updates: the filter names the statuses a change
may start from, so an event that arrives late (a failure after the success) changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument

from functions.core.db import get_db, insert_unless_duplicate
from functions.core.paging import find_page
from functions.payments.status import FLAGGED, SUCCEEDED

PAYMENTS = "payments"

INDEXES = {
    PAYMENTS: [
        IndexModel([("intentId", ASCENDING)], name="by_intent"),
        IndexModel([("payerId", ASCENDING), ("updatedAt", ASCENDING)], name="by_payer"),
        IndexModel([("status", ASCENDING), ("updatedAt", ASCENDING)], name="status_updated"),
        IndexModel([("review", ASCENDING), ("updatedAt", DESCENDING)], name="review_queue"),
    ],
}


def ref_of(kind: str, target_id: ObjectId) -> str:
    """The `_id` of the payment for this thing."""
    return f"{kind}:{target_id}"


def get(ref: str) -> dict[str, Any] | None:
    found: dict[str, Any] | None = get_db()[PAYMENTS].find_one({"_id": ref})
    return found


def by_intent(intent_id: str) -> dict[str, Any] | None:
    found: dict[str, Any] | None = get_db()[PAYMENTS].find_one({"intentId": intent_id})
    return found


def open_payment(ref: str, open_statuses: Sequence[str], fields: dict[str, Any], now: datetime) -> bool:
    """Record the intent on the payment unless it is past the open statuses (paid, refunded):
    an update of an open document, else an insert of a new one (the `_id` refuses a second
    document; then the update is tried once more). False = exists and not open."""
    coll = get_db()[PAYMENTS]
    changes = {**fields, "updatedAt": now}
    query = {"_id": ref, "status": {"$in": list(open_statuses)}}
    if coll.update_one(query, {"$set": changes}).matched_count:
        return True
    if insert_unless_duplicate(coll, {"_id": ref, **changes, "createdAt": now}):
        return True
    # a concurrent request inserted it a moment ago: open is open, paid is paid
    return bool(coll.update_one(query, {"$set": changes}).matched_count)


def transition(ref: str, sources: Sequence[str], changes: dict[str, Any],
               entry: dict[str, Any]) -> dict[str, Any] | None:
    """Apply `changes` only if the status is one of `sources`; the document after, else None."""
    found: dict[str, Any] | None = get_db()[PAYMENTS].find_one_and_update(
        {"_id": ref, "status": {"$in": list(sources)}},
        {"$set": changes, "$push": {"history": entry}},
        return_document=ReturnDocument.AFTER)
    return found


def stuck(status: str, before: datetime, limit: int) -> list[dict[str, Any]]:
    """Payments left in `status` since before `before` (the sweeper retries them)."""
    cursor = get_db()[PAYMENTS].find({"status": status, "updatedAt": {"$lte": before}}).limit(limit)
    return list(cursor)


def paid_starting_after(kind: str, since: datetime, after: str, limit: int) -> list[dict[str, Any]]:
    """Paid payments of `kind` whose target (an appointment) starts after `since`, by `_id`
    after `after` (the sweeper pages through them)."""
    cursor = get_db()[PAYMENTS].find(
        {"status": SUCCEEDED, "kind": kind, "targetStart": {"$gt": since}, "_id": {"$gt": after}},
        {"targetId": 1}).sort("_id", ASCENDING).limit(limit)
    return list(cursor)


def flagged(skip: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    """One page of the payments flagged for review (a success that did not take what was
    charged), the most recently flagged first, and their total (index `review_queue`)."""
    return find_page(get_db()[PAYMENTS], {"review": FLAGGED}, sort=[("updatedAt", DESCENDING), ("_id", DESCENDING)],
                     skip=skip, limit=limit)


def of_payer(payer_id: ObjectId, limit: int) -> list[dict[str, Any]]:
    """The payer's payment records, most recently changed first (index `by_payer`)."""
    cursor = get_db()[PAYMENTS].find({"payerId": payer_id}).sort([("updatedAt", DESCENDING), ("_id", DESCENDING)])
    return list(cursor.limit(limit))
