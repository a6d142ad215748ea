"""The one rate limiter. Every limit of the platform (login attempts, codes asked for, SMS at
sign-up, prescription checks, analyses, emergency requests, the doctor-joined notice, messages
per recipient) is a `Limit` declared by its caller, taken under a key the caller chooses (whose
budget is spent: a user, a contact, an address), with `retry_after` computed here only.

A window is one document of `rate_limits`, `{_id: "<name>|<key>", count, since, expiresAt,
bucket}`: at most `limit` takes from `since` to `since + window` (an anchored window, opened by
the first take after the last one ended). A take is one conditional `$inc` upsert (one round
trip; `take_all` sends the upserts of all its keys in one ordered update, each take marked
`takes.<token>` so that it can be given back exactly): counted while the window is current and
has room, the window created by a first take; a full or ended window refuses the upsert by its
`_id` (duplicate key), and the slow path restarts an ended window or reports the full one. So a
burst of concurrent takes gets exactly `limit` (the database decides), and a refused take is
never counted. A take can be given back (a login that succeeded no longer counts; its
`settlement` is deferred to the outbox's worker, `settle_deferred` its handler) or a window
cleared (recovery lifts a lockout).
`bucket` (the UTC hour of expiry) lets the sweeper purge by an indexed equality where TTL
indexes are not enforced (the embedded FerretDB); reads never trust a window past its time
anyway.

The one exception: the WebSocket frame budget (`touch_connection` in
`functions/signaling/stores/connections.py`) stays fused into the connection's own read, a
per-second counter inside the connection document, because every frame must cost one round
trip, not two.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING, IndexModel, ReturnDocument, UpdateOne

from functions.core import metrics
from functions.core.db import get_db, unless_duplicate
from functions.core.errors import Code, RateLimited

COLLECTION = "rate_limits"

INDEXES = {
    COLLECTION: [
        IndexModel([("expiresAt", ASCENDING)], expireAfterSeconds=0, name="expires_ttl"),
        IndexModel([("bucket", ASCENDING)], name="by_bucket"),
    ],
}

_TRIES = 3
PURGE_HOURS = 3  # the sweeper (every 5 minutes) purges windows that ended in the last 3 whole hours


@dataclass(frozen=True)
class Limit:
    """At most `limit` takes per `window` under one key; a refusal is a 429 with `code` and
    `message`. Declare it once (a module constant, or built from settings at call time)."""

    name: str
    limit: int
    window: timedelta
    code: Code = Code.RATE_LIMITED
    message: str = "Too many requests"

    def window_id(self, key: str) -> str:
        return f"{self.name}|{key}"


def _windows() -> Any:
    return get_db()[COLLECTION]


def _bucket(instant: datetime) -> str:
    return f"{instant:%Y-%m-%dT%H}"


def retry_after(limit: Limit, since: datetime, now: datetime) -> int:
    """Whole seconds until the window that began at `since` ends (at least 1)."""
    return max(1, math.ceil((since + limit.window - now).total_seconds()))


def _fresh(limit: Limit, now: datetime) -> dict[str, Any]:
    return {"since": now, "expiresAt": now + limit.window, "bucket": _bucket(now + limit.window)}


def _room(limit: Limit, key: str, now: datetime) -> dict[str, Any]:
    return {"_id": limit.window_id(key), "since": {"$gt": now - limit.window}, "count": {"$lt": limit.limit}}


def _marked(token: str, now: datetime) -> dict[str, Any]:
    return {f"takes.{token}": now} if token else {}


def _claim(limit: Limit, key: str, now: datetime, counted: bool = False,
           token: str = "") -> tuple[datetime | None, int]:
    """Count one take: `(None, count after)` when counted (the count is read only if `counted`,
    else 0), else `(start of the full window, 0)`. With a `token`, the take is marked in the
    window (`takes.<token>`) so that it can be given back exactly (`give_back_taken`)."""
    windows, wid = _windows(), limit.window_id(key)
    fresh, room = _fresh(limit, now), _room(limit, key, now)
    mark = {"$set": _marked(token, now)} if token else {}
    for _ in range(_TRIES):
        after: dict[str, Any] | None = None
        with unless_duplicate() as full_or_ended:
            if counted:
                after = windows.find_one_and_update(room, {"$inc": {"count": 1}, "$setOnInsert": fresh},
                                                    upsert=True, return_document=ReturnDocument.AFTER)
            else:
                windows.update_one(room, {"$inc": {"count": 1}, **mark, "$setOnInsert": fresh}, upsert=True)
        if not full_or_ended:
            return None, int(after["count"]) if after else 0
        if windows.update_one({"_id": wid, "since": {"$lte": now - limit.window}},
                              {"$set": {"count": 1, **fresh, **({"takes": {token: now}} if token else {})}}
                              ).matched_count:
            return None, 1  # the old window was over (TTL may not have removed it): a new one starts
        found = windows.find_one({"_id": wid}, {"since": 1, "count": 1})
        if found is not None and found["since"] > now - limit.window and found["count"] >= limit.limit:
            since: datetime = found["since"]
            metrics.count_refusal(limit.name)
            return since, 0
        # room appeared (a take given back) or the window vanished (purged): try again
    metrics.count_refusal(limit.name)
    return now, 0  # the window kept changing under us: refuse this one take


def try_take(limit: Limit, key: str, now: datetime) -> bool:
    """Take one under `key` if the window has room: True when taken."""
    return _claim(limit, key, now)[0] is None


def take_counted(limit: Limit, key: str, now: datetime) -> int | None:
    """Take one under `key` if the window has room: the number taken in the window so far (this
    one included), for a caller with a lower threshold of its own on the same budget (the
    notifier: fewer e-mails to an unverified address); None when refused. One round trip."""
    refused, count = _claim(limit, key, now, counted=True)
    return None if refused is not None else count


def take(limit: Limit, key: str, now: datetime) -> None:
    """Take one under `key`, or raise RateLimited (429, `limit.code`, Retry-After)."""
    since = _claim(limit, key, now)[0]
    if since is not None:
        raise RateLimited(limit.message, code=limit.code, retry_after=retry_after(limit, since, now))


def take_all(claims: Sequence[tuple[Limit, str]], now: datetime) -> str:
    """Take one under each (limit, key), all or nothing, and return the token the takes are
    marked with (`give_back_taken`, `settle(token=...)`). Fast path: one round trip for all the
    keys, an ordered multi-statement update of the conditional upserts. If a statement is refused
    (a full or ended window), which statements before it counted is not told reliably (the
    embedded FerretDB reports a wrong statement index), so the marked takes are given back
    exactly, by token, and the keys are taken one by one as before: if any refuses, the takes
    that were counted are given back and RateLimited says when the longest-locked window ends
    (with the first refusing limit's code and message)."""
    token = uuid.uuid4().hex
    statements = [{"q": _room(limit, key, now), "upsert": True,
                   "u": {"$inc": {"count": 1}, "$set": _marked(token, now), "$setOnInsert": _fresh(limit, now)}}
                  for limit, key in claims]
    if statements:
        reply = _windows().database.command("update", COLLECTION, updates=statements, ordered=True)
        if not reply.get("writeErrors") and not reply.get("writeConcernError"):
            return token
        give_back_taken(claims, token)
    outcomes = [(limit, key, _claim(limit, key, now, token=token)[0]) for limit, key in claims]
    refused = [(limit, since) for limit, _, since in outcomes if since is not None]
    if not refused:
        return token
    give_back_taken([(limit, key) for limit, key, since in outcomes if since is None], token)
    first = refused[0][0]
    wait = max(retry_after(limit, since, now) for limit, since in refused)
    raise RateLimited(first.message, code=first.code, retry_after=wait)


def _given_back(window_id: str, token: str) -> dict[str, Any]:
    return {"q": {"_id": window_id, f"takes.{token}": {"$exists": True}},
            "u": {"$inc": {"count": -1}, "$unset": {f"takes.{token}": ""}}}


def give_back_taken(claims: Sequence[tuple[Limit, str]], token: str) -> None:
    """The takes marked `token` under these (limit, key) no longer count, in one round trip:
    exactly once each (a take that never counted, or was given back already, or whose window
    restarted since, changes nothing)."""
    if claims:
        statements = [_given_back(limit.window_id(key), token) for limit, key in claims]
        _windows().bulk_write([UpdateOne(s["q"], s["u"]) for s in statements], ordered=False)


def _settlement(reset: Sequence[str], give_back: Sequence[str], token: str) -> list[dict[str, Any]]:
    # with a token, the reset is guarded by the take's mark: run again, it finds none (exactly once)
    statements = [{"q": {"_id": window_id, f"takes.{token}": {"$exists": True}},
                   "u": {"$set": {"count": 0, "takes": {}}}} if token else
                  {"q": {"_id": window_id}, "u": {"$set": {"count": 0}}} for window_id in reset]
    statements += [_given_back(window_id, token) if token else
                   {"q": {"_id": window_id, "count": {"$gt": 0}}, "u": {"$inc": {"count": -1}}}
                   for window_id in give_back]
    return statements


def _write(statements: Sequence[dict[str, Any]]) -> None:
    if statements:
        _windows().bulk_write([UpdateOne(s["q"], s["u"]) for s in statements], ordered=False)


def settle(*, reset: Sequence[tuple[Limit, str]] = (), give_back: Sequence[tuple[Limit, str]] = (),
           token: str = "") -> None:
    """In one round trip: windows whose takes no longer count at all (`reset` to zero: a login
    that succeeded forgets the failures from its address) and takes given back (`give_back`:
    that attempt no longer counts for the contact; with the `token` of `take_all`, exactly that
    take, once; the reset too only while that take's mark is there). A count never goes below zero."""
    _write(_settlement([limit.window_id(key) for limit, key in reset],
                       [limit.window_id(key) for limit, key in give_back], token))


SETTLE = "throttle.settle"  # the outbox effect kind of a deferred `settle` (functions.registry.EFFECTS)


def settlement(*, reset: Sequence[tuple[Limit, str]] = (), give_back: Sequence[tuple[Limit, str]] = (),
               token: str = "") -> dict[str, Any]:
    """`settle`'s arguments as the payload of an outbox effect of kind SETTLE (window ids and the
    token: JSON- and BSON-storable), for `core.outbox.defer`: the login's answer does not wait
    for it, and no database round trip is added to the request."""
    return {"reset": [limit.window_id(key) for limit, key in reset],
            "giveBack": [limit.window_id(key) for limit, key in give_back], "token": token}


def settle_deferred(payload: Mapping[str, Any]) -> list[Any]:
    """The outbox's handler of SETTLE: `settle` in one round trip, no messages. Safe to run again
    (delivery is at least once): with the token, the reset and the give-back each apply only
    while the take's mark is there and remove it, so a second run changes nothing (failures made
    since are not forgotten)."""
    _write(_settlement(payload.get("reset", ()), payload.get("giveBack", ()), str(payload.get("token", ""))))
    return []


def give_back(limit: Limit, key: str) -> None:
    """The take did not count after all (its action was refused elsewhere, or succeeded where
    only failures count)."""
    _windows().update_one({"_id": limit.window_id(key), "count": {"$gt": 0}}, {"$inc": {"count": -1}})


def clear(limit: Limit, key: str) -> None:
    """End the window now (the owner proved control of the account: the lockout is lifted)."""
    _windows().delete_one({"_id": limit.window_id(key)})


def purge(now: datetime, hours: int = PURGE_HOURS) -> int:
    """Windows that ended in the last `hours` whole hours, one indexed equality per hour (TTL
    does this on MongoDB, not on the embedded FerretDB)."""
    purged = 0
    for back in range(1, hours + 1):
        purged += int(_windows().delete_many({"bucket": _bucket(now - timedelta(hours=back))}).deleted_count)
    return purged


def sweep(now: datetime) -> dict[str, int]:
    """The platform sweeper's part (core.jobs): ended windows."""
    return {"rateLimitsPurged": purge(now)}
