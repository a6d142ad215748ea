"""The `presence` collection: the doctors online now, keyed by doctor id: `{_id, online,
connectionId, since, expiresAt}` (their newest `doctorConnect` wins; it expires with its
connection, and the sweeper purges what TTL would remove on MongoDB).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, IndexModel

from functions.core.db import get_db

PRESENCE = "presence"

INDEXES = {PRESENCE: [IndexModel([("online", ASCENDING), ("expiresAt", ASCENDING)], name="online_expiry")]}


def set_presence(doctor_id: ObjectId, cid: str, now: datetime, expires: datetime) -> None:
    """The doctor is online on `cid` (their newest `doctorConnect` wins)."""
    get_db()[PRESENCE].update_one(
        {"_id": doctor_id},
        {"$set": {"online": True, "connectionId": cid, "since": now, "expiresAt": expires}}, upsert=True)


def clear_presence(doctor_id: ObjectId, cid: str) -> None:
    """Offline, unless the doctor has come online on a newer connection meanwhile."""
    get_db()[PRESENCE].delete_one({"_id": doctor_id, "connectionId": cid})


def online_doctors(now: datetime) -> list[dict[str, Any]]:
    """Online doctors whose connection has not expired (index `online_expiry`)."""
    return list(get_db()[PRESENCE].find({"online": True, "expiresAt": {"$gt": now}},
                                     {"connectionId": 1}).limit(1000))


def purge_expired_presence(now: datetime) -> int:
    return int(get_db()[PRESENCE].delete_many({"online": True, "expiresAt": {"$lte": now}}).deleted_count)
