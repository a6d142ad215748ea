"""MongoDB access of the auth domain: login attempt windows (`login_failures`). Accounts, codes,
the directory and medical history are in `users`, owned by `functions.core.users`.

FerretDB 1.24 cannot create TTL indexes (`core.db` then creates them without expiry), so expiry
is always also checked by time in code, and the sweeper purges expired windows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from pymongo import ASCENDING, IndexModel, UpdateOne
from pymongo.errors import DuplicateKeyError

from functions.core.db import get_db

LOGIN_FAILURES = "login_failures"  # login attempt windows per contact and source IP, and per contact

INDEXES = {
    LOGIN_FAILURES: [
        IndexModel([("expiresAt", ASCENDING)], expireAfterSeconds=0, name="expires_ttl"),
        IndexModel([("bucket", ASCENDING)], name="by_bucket"),
    ],
}


# ---------------------------------------------------------------- login attempt windows
# A window is {_id: key, count, since, expiresAt, bucket}: at most `limit` attempts counted from
# `since` to `since + window`. An attempt is claimed (counted) BEFORE its password is checked,
# by one conditional `$inc`, so a burst of concurrent guesses gets exactly `limit` checks; a
# successful login gives its claim back. `bucket` (the UTC hour of expiry) lets the sweeper
# purge by an indexed equality where TTL indexes are not enforced (FerretDB).


def _bucket(instant: datetime) -> str:
    return f"{instant:%Y-%m-%dT%H}"


def claim_attempt(key: str, now: datetime, window: timedelta, limit: int) -> datetime | None:
    """Count one attempt under `key` if its window has room: None when counted, else the start
    of the full window (the caller answers 429 until it ends)."""
    windows = get_db()[LOGIN_FAILURES]
    fresh = {"count": 1, "since": now, "expiresAt": now + window, "bucket": _bucket(now + window)}
    for _ in range(3):
        room = {"_id": key, "since": {"$gt": now - window}, "count": {"$lt": limit}}
        if windows.update_one(room, {"$inc": {"count": 1}}).matched_count:
            return None
        try:
            windows.insert_one({"_id": key, **fresh})
            return None
        except DuplicateKeyError:
            pass
        if windows.update_one({"_id": key, "since": {"$lte": now - window}}, {"$set": fresh}).matched_count:
            return None  # the old window was over (TTL may not have removed it): a new one starts
        found = windows.find_one({"_id": key}, {"since": 1, "count": 1})
        if found is not None and found["since"] > now - window and found["count"] >= limit:
            since: datetime = found["since"]
            return since
    return now  # the window kept changing under us: refuse this one attempt


def claim_attempts(keys: Sequence[tuple[str, int]], now: datetime, window: timedelta) -> list[datetime | None]:
    """Count one attempt under each (key, limit): one conditional upsert per key (counted while
    the window has room; a first attempt creates the window). A key whose window is full or over
    is refused by its `_id` (duplicate key) and settled by `claim_attempt` (the slow path: locked,
    or a window to restart). Per key: None when counted, else the start of its full window.
    (One statement per command: in an unordered batch FerretDB names the wrong statement in a
    duplicate-key error.)"""
    fresh = {"since": now, "expiresAt": now + window, "bucket": _bucket(now + window)}
    windows = get_db()[LOGIN_FAILURES]
    out: list[datetime | None] = []
    for key, limit in keys:
        try:
            windows.update_one({"_id": key, "since": {"$gt": now - window}, "count": {"$lt": limit}},
                               {"$inc": {"count": 1}, "$setOnInsert": fresh}, upsert=True)
            out.append(None)
        except DuplicateKeyError:
            out.append(claim_attempt(key, now, window, limit))
    return out


def settle_success(here: str, anywhere: str) -> None:
    """A login succeeded: the failures from its address are forgotten and the attempt no longer
    counts for the contact (one round trip: one update command with both statements)."""
    get_db()[LOGIN_FAILURES].bulk_write([
        UpdateOne({"_id": here}, {"$set": {"count": 0}}),
        UpdateOne({"_id": anywhere, "count": {"$gt": 0}}, {"$inc": {"count": -1}}),
    ], ordered=False)


def give_back_attempt(key: str) -> None:
    """The attempt did not fail (or was never checked): it no longer counts."""
    get_db()[LOGIN_FAILURES].update_one({"_id": key, "count": {"$gt": 0}}, {"$inc": {"count": -1}})


def clear_attempts(key: str) -> None:
    get_db()[LOGIN_FAILURES].delete_one({"_id": key})


def purge_expired_windows(now: datetime, hours: int = 3) -> int:
    """For the sweeper where TTL indexes are not enforced (FerretDB): windows that expired in the
    last `hours` whole hours, one indexed equality per hour."""
    purged = 0
    for back in range(1, hours + 1):
        bucket = _bucket(now - timedelta(hours=back))
        purged += int(get_db()[LOGIN_FAILURES].delete_many({"bucket": bucket}).deleted_count)
    return purged
