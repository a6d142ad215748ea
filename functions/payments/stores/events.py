"""`stripe_events`: one document per webhook event id `{_id, type, receivedAt, expiresAt,
handledAt}`, so a second delivery is a duplicate-key refusal; `handledAt` is set once the event's
handling finished (a claim without it is a delivery in flight, or one that died half way). The
only module issuing commands to it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING, IndexModel

from functions.core.db import get_db, insert_unless_duplicate

EVENTS = "stripe_events"
# Stripe retries an event for at most 3 days. MongoDB's TTL index then drops the id; FerretDB
# cannot expire documents, and the ids that stay there are harmless (a later replay is still
# acknowledged and ignored).
EVENT_RETENTION = timedelta(days=30)

INDEXES = {EVENTS: [IndexModel([("expiresAt", ASCENDING)], expireAfterSeconds=0, name="expires_ttl")]}


def claim_event(event_id: str, event_type: str, now: datetime) -> bool:
    """True the first time an event id is seen; False when it was claimed before."""
    return insert_unless_duplicate(get_db()[EVENTS], {"_id": event_id, "type": event_type, "receivedAt": now,
                                                       "expiresAt": now + EVENT_RETENTION})


def forget_event(event_id: str) -> None:
    """Undo `claim_event` when handling failed, so Stripe's retry is processed."""
    get_db()[EVENTS].delete_one({"_id": event_id})


def get_event(event_id: str) -> dict[str, Any] | None:
    found: dict[str, Any] | None = get_db()[EVENTS].find_one({"_id": event_id})
    return found


def mark_handled(event_id: str, now: datetime) -> None:
    """The event's handling finished: a later delivery of it is a replay."""
    get_db()[EVENTS].update_one({"_id": event_id}, {"$set": {"handledAt": now}})
