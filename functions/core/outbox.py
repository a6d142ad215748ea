"""The outbox: effects that leave the request path (issue 20 §1), in the one `notifications`
collection this module owns.

A use case records what must happen after its write — `record(Effect(...), ...)`, one round
trip — and a worker delivers it: `deliver_due` leases each due entry with one conditional
update, runs it, and marks it. Two kinds of entry:

- **messages** (`message(...)`, built in): one SMS or e-mail. Its caps (`core.notify`: region,
  verified contact, the daily budgets) are evaluated here, at delivery, so they cost a request
  nothing; a notice over its cap is held for the recipient's hourly digest (issue 21, item 1).
- **effects** of a domain's kind: the composition root plugs a `Handler` per kind
  (`functions.registry.EFFECTS`). The handler does its own idempotent work and returns the
  messages it wants sent; the worker stores them as children with deterministic ids
  (`<parent id>:<index>`, `insert_many_unless_duplicate`) before it marks the parent done, so a
  handler re-run after a kill never sends a message twice.

Delivery is at least once: every entry is leased (`LEASE`) before it is worked on, and a worker
that dies leaves it to be leased again when the lease runs out. A message is marked sent after
its provider accepted it, so only a kill between the two can send it twice. Failures retry with
`notify.backoff` up to `notify.MAX_ATTEMPTS`, then the entry is marked failed and counted.

How the worker learns of new entries is `kick()`, chosen by OUTBOX_DELIVERY: `sqs` (AWS: one SQS
message, the `outbox_worker` Lambda runs `deliver_due`), `poll` (`make run`: local/outbox_worker.py
polls), `inline` (the test suite: delivered at once in this process). The platform sweeper runs
`sweep` as the safety net in every mode.
"""

from __future__ import annotations

import functools
import hashlib
import queue
import threading
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bson import json_util
from pymongo import ASCENDING, IndexModel, ReturnDocument

from functions.core import clock, metrics, notify
from functions.core.config import get_settings
from functions.core.db import get_db, insert_many_unless_duplicate, insert_unless_duplicate
from functions.core.metrics import Metric
from functions.core.observability import logger

COLLECTION = "notifications"
MESSAGE = "message"  # the built-in kind: one SMS or e-mail, delivered by core.notify
BATCH = 50  # entries one `deliver_due` call works through at most
LEASE = timedelta(minutes=10)  # a worker that died mid-delivery releases the entry after this

INDEXES = {
    COLLECTION: [IndexModel([("status", ASCENDING), ("nextAttemptAt", ASCENDING)], name="due"),
                 IndexModel([("digest", ASCENDING)], name="digest")],
}


@dataclass(frozen=True)
class Effect:
    """What must happen after a request: `kind` names its handler, `payload` is BSON-storable
    (and needs no PHI), `ref` is what it is about, for logs and tests."""

    kind: str
    payload: Mapping[str, Any]
    ref: Any = None


Handler = Callable[[Mapping[str, Any]], Sequence[Effect]]

_handlers: dict[str, Handler] = {}
_local = threading.local()  # `delivering`: this thread is inside deliver_due (an inline kick waits for it)


def plug(handlers: Mapping[str, Handler]) -> None:
    """The composition root's handlers by kind (`functions.registry.EFFECTS`), used by
    `deliver_due` when it is not handed any."""
    _handlers.clear()
    _handlers.update(handlers)


def message(channel: str, to: str, subject: str, body: str, *, kind: str, ref: Any = None,
            sender: Any = None) -> Effect:
    """One SMS (`channel` "phone") or e-mail to a known contact. `kind` names the message (its
    caps depend on it: one-time codes, reminders, notices); `sender` is the user whose action
    causes it (the daily cap is per sender and recipient), None for the recipient's own codes and
    reminders and the system's own messages. Bodies carry no PHI."""
    return Effect(MESSAGE, {"channel": channel, "to": to, "subject": subject, "body": body, "kind": kind,
                            "sender": sender}, ref)


NOTICE = "notice"  # a user's notice: pushed to their live WebSocket connections, else its message


def notice(user_id: Any, event: Mapping[str, Any], fallback: Effect | None, *, ref: Any = None) -> Effect:
    """A notice to a user: `event` (a WebSocket frame) pushed to their live connections, and
    when none got it the `fallback` message (`message(...)`; None: nothing) sent. The handler of
    kind NOTICE is the signaling domain's, plugged by the composition root
    (`functions.registry.EFFECTS`), so a domain that signaling depends on can push too."""
    return Effect(NOTICE, {"user": user_id, "event": dict(event), "ref": ref,
                           "fallback": None if fallback is None else dict(fallback.payload)}, ref)


# ---------------------------------------------------------------- the request path


def record(*effects: Effect) -> None:
    """Store `effects` in one round trip, then `kick()` the worker. Never raises: a failure is
    logged (no PHI) and counted; the request that caused the effects has committed and stands."""
    store(*effects)


def store(*effects: Effect) -> bool:
    """`record`, answering whether the effects were written (`notify.send` returns it)."""
    if not effects:
        return True
    now = clock.now()
    docs = [_document(effect, now) for effect in effects]
    try:
        coll = get_db()[COLLECTION]
        if len(docs) == 1:
            coll.insert_one(docs[0])
        else:
            coll.insert_many(docs, ordered=False)
    except Exception as exc:
        logger.error("outbox write failed", extra={"kinds": sorted({d["kind"] for d in docs}),
                                                   "error": type(exc).__name__})
        metrics.count(Metric.OUTBOX_RECORD_FAILED, len(docs))
        return False
    kick()
    return True


def _document(effect: Effect, now: datetime, _id: Any = None) -> dict[str, Any]:
    doc: dict[str, Any] = {"ref": effect.ref, "status": "pending", "attempts": 0, "nextAttemptAt": now,
                           "createdAt": now, "updatedAt": now}
    if _id is not None:
        doc["_id"] = _id
    if effect.kind == MESSAGE:
        p = effect.payload
        doc.update({"type": MESSAGE, "kind": p["kind"], "channel": p["channel"], "to": p["to"],
                    "subject": p["subject"], "body": p["body"], "sender": p.get("sender")})
    else:
        doc.update({"type": "effect", "kind": effect.kind, "payload": dict(effect.payload)})
    return doc


def kick() -> None:
    """Tell the worker there is work (OUTBOX_DELIVERY). Never raises: the sweeper delivers what a
    lost kick leaves behind."""
    mode = get_settings().outbox_delivery
    try:
        if mode == "inline":
            if not getattr(_local, "delivering", False):  # a handler's own records: the running loop takes them
                deliver_due()
        elif mode == "sqs":
            _kick_sqs()
        # poll: the local worker polls the collection; nothing to do
    except Exception as exc:
        logger.warning("outbox kick failed", extra={"mode": mode, "error": type(exc).__name__})


@functools.cache
def _sqs() -> Any:
    import boto3

    return boto3.client("sqs")


def queue_url() -> str:
    """The queue kicks and deferred effects go to: OUTBOX_QUEUE_URL (the packaged stack sets it),
    else the URL of OUTBOX_QUEUE_NAME looked up once per container (`chalice deploy --stage
    dev`), else none (the sweeper delivers)."""
    settings = get_settings()
    if settings.outbox_queue_url:
        return settings.outbox_queue_url
    return _url_of(settings.outbox_queue_name) if settings.outbox_queue_name else ""


@functools.cache
def _url_of(name: str) -> str:
    return str(_sqs().get_queue_url(QueueName=name)["QueueUrl"])


def _kick_sqs() -> None:
    url = queue_url()
    if not url:
        logger.warning("outbox kick skipped: no OUTBOX_QUEUE_URL or OUTBOX_QUEUE_NAME (the sweeper delivers)")
        return
    _sqs().send_message(QueueUrl=url, MessageBody='{"kick":1}')


# ---------------------------------------------------------------- effects handed over without the database


def defer(effect: Effect) -> None:
    """Hand the worker an effect that needs no atomicity with the request's writes, without writing
    it to the database (no round trip on the request path: the login's settlement,
    `core.throttle.SETTLE`). Its handler must be idempotent: delivery is at least once. By
    OUTBOX_DELIVERY: `sqs`, the queue message carries the effect itself (the `outbox_worker`
    Lambda runs it, `work_queue`; SQS redelivers a failed batch, then parks it in the dead-letter
    queue); `poll` (`make run`, a process that lives on), an in-process queue drained by a thread;
    `inline` (tests), at once. Where the queue is unset or refuses it, the effect is recorded in
    the outbox instead (one round trip, only then). Never raises."""
    mode = get_settings().outbox_delivery
    try:
        if mode == "inline":
            _run_deferred(effect)
        elif mode == "sqs" and queue_url():
            _sqs().send_message(QueueUrl=queue_url(), MessageBody=json_util.dumps(
                {"effect": {"kind": effect.kind, "payload": dict(effect.payload), "ref": effect.ref}}))
        elif mode == "poll":
            _deferred.put(effect)
            _deferred_runner()
        else:  # sqs without a queue (chalice deploy --stage dev): the sweeper delivers it
            store(effect)
    except Exception as exc:
        logger.warning("deferred effect not handed over; recorded instead",
                       extra={"kind": effect.kind, "mode": mode, "error": type(exc).__name__})
        store(effect)


def _run_deferred(effect: Effect, parent: str = "") -> None:
    """Run a deferred effect's handler; the messages it returns are recorded (with ids derived
    from `parent`, when the same effect can come again: an SQS message id)."""
    handler = _handlers.get(effect.kind)
    if handler is None:
        raise notify.NotDelivered(f"no handler for {effect.kind!r}")
    now = clock.now()
    children = list(handler(effect.payload))
    if not children:
        return
    if parent:
        insert_many_unless_duplicate(get_db()[COLLECTION], [_document(child, now, f"{parent}:{i}")
                                                             for i, child in enumerate(children)], ordered=False)
        kick()
    else:
        store(*children)


_deferred: queue.SimpleQueue[Effect] = queue.SimpleQueue()


def _run_deferred_forever() -> None:
    while True:
        effect = _deferred.get()
        try:
            _run_deferred(effect)
        except Exception as exc:  # kept for the worker (its retries and backoff), never a crash
            logger.warning("deferred effect failed; recorded for a retry",
                           extra={"kind": effect.kind, "error": type(exc).__name__})
            store(effect)


@functools.cache
def _deferred_runner() -> threading.Thread:
    # named off-path-*: tests/integration/test_round_trips.py does not count its commands as the request's
    runner = threading.Thread(target=_run_deferred_forever, name="off-path-outbox-deferred", daemon=True)
    runner.start()
    return runner


def work_queue(messages: Sequence[tuple[str, str]]) -> dict[str, int]:
    """The `outbox_worker` Lambda's work for one SQS batch of `(message id, body)`: the effects the
    messages carry (`defer`) are run, then what is due in the outbox is delivered until nothing
    is (the kicks of a batch share one run). A deferred effect that failed fails the batch after
    the rest is done, so SQS redelivers it (its handler is idempotent), then dead-letters it."""
    failed: Exception | None = None
    for message_id, body in messages:
        carried = json_util.loads(body).get("effect")
        if carried is None:
            continue  # a kick
        try:
            _run_deferred(Effect(carried["kind"], carried.get("payload") or {}, carried.get("ref")),
                          parent=f"sqs:{message_id}" if message_id else "")
        except Exception as exc:
            logger.warning("deferred effect failed; the queue delivers it again",
                           extra={"kind": carried.get("kind"), "error": type(exc).__name__})
            failed = failed or exc
    totals: dict[str, int] = {}
    while True:
        counts = deliver_due()
        for key, value in counts.items():
            totals[key] = totals.get(key, 0) + value
        if counts["retried"] < BATCH:
            break
    if failed is not None:
        raise failed
    return totals


# ---------------------------------------------------------------- the worker


def deliver_due(handlers: Mapping[str, Handler] | None = None, now: datetime | None = None,
                limit: int = BATCH) -> dict[str, int]:
    """Lease and deliver up to `limit` due entries: queued ones first, then those whose lease ran
    out (one status per query, an indexed equality). Each entry is leased by a conditional update,
    so two workers never work on the same one."""
    handlers = _handlers if handlers is None else handlers
    counts = {"retried": 0, "delivered": 0, "handled": 0, "held": 0, "dropped": 0, "gaveUp": 0}
    outer = getattr(_local, "delivering", False)
    _local.delivering = True
    try:
        for status in ("pending", "sending"):
            while counts["retried"] < limit:
                doc = _lease(status, now or clock.now())
                if doc is None:
                    break
                counts["retried"] += 1
                _work(doc, handlers, now or clock.now(), counts)
    finally:
        _local.delivering = outer
    return counts


def _lease(status: str, now: datetime) -> dict[str, Any] | None:
    doc: dict[str, Any] | None = get_db()[COLLECTION].find_one_and_update(
        {"status": status, "nextAttemptAt": {"$lte": now}},
        {"$set": {"status": "sending", "nextAttemptAt": now + LEASE, "updatedAt": now}, "$inc": {"attempts": 1}},
        return_document=ReturnDocument.AFTER,
    )
    return doc


def _mark(doc: dict[str, Any], now: datetime, status: str, **fields: Any) -> None:
    get_db()[COLLECTION].update_one({"_id": doc["_id"]},
                                    {"$set": {"status": status, "updatedAt": now, **fields}})


def _work(doc: dict[str, Any], handlers: Mapping[str, Handler], now: datetime, counts: dict[str, int]) -> None:
    kind = doc.get("type") or MESSAGE  # entries queued before the outbox were messages
    try:
        if kind == "digest":
            _deliver_digest(doc, now, counts)
        elif kind == MESSAGE:
            _deliver_message(doc, now, counts)
        else:
            _run_handler(doc, handlers, now, counts)
    except Exception as exc:
        _failed(doc, exc, now, counts)


def _failed(doc: dict[str, Any], exc: Exception, now: datetime, counts: dict[str, int]) -> None:
    reason = str(exc) if isinstance(exc, notify.NotDelivered) else type(exc).__name__
    gave_up = doc["attempts"] >= notify.MAX_ATTEMPTS or isinstance(exc, notify.Undeliverable)
    counts["gaveUp"] += gave_up
    is_message = (doc.get("type") or MESSAGE) != "effect"
    logger.warning("outbox entry not delivered" + ("; given up" if gave_up else "; retried later"),
                   extra={"kind": doc.get("kind"), "ref": str(doc.get("ref")), "attempts": doc["attempts"],
                          "reason": reason})
    if gave_up:
        metrics.count(Metric.NOTIFICATION_FAILED if is_message else Metric.OUTBOX_FAILED)
    admitted = {"admitted": True} if doc.get("admitted") else {}  # its caps passed: a retry does not count them again
    _mark(doc, now, "failed" if gave_up else "pending", lastError=reason,
          nextAttemptAt=now + notify.backoff(doc["attempts"]), **admitted)


def _run_handler(doc: dict[str, Any], handlers: Mapping[str, Handler], now: datetime,
                 counts: dict[str, int]) -> None:
    handler = handlers.get(doc["kind"])
    if handler is None:
        raise notify.NotDelivered(f"no handler for {doc['kind']!r}")
    children = [_document(effect, now, f"{doc['_id']}:{i}") for i, effect in enumerate(handler(doc["payload"]))]
    if children:  # a re-run after a kill finds the first run's children: refused by their ids, not sent again
        insert_many_unless_duplicate(get_db()[COLLECTION], children, ordered=False)
    _mark(doc, now, "done", doneAt=now)
    counts["handled"] += 1


def _deliver_message(doc: dict[str, Any], now: datetime, counts: dict[str, int]) -> None:
    channel, to, kind = doc["channel"], doc["to"], doc["kind"]
    # The caps count once: a retry after a failure the worker saw (`_failed` keeps `admitted`) skips
    # them. A lease that ended without a mark (a worker killed, a lost reply) evaluates them again,
    # so a notice held but not yet marked is held again, never sent past its cap (stricter by one
    # take at most, when the kill came after the caps admitted it).
    if not doc.get("admitted"):
        try:
            refused = notify.caps(channel, to, kind, doc.get("sender"))
        except Exception as exc:  # the caps' bookkeeping failing must not lose the message
            logger.warning("notification caps unavailable", extra={"kind": kind, "error": type(exc).__name__})
            refused = None
        if refused in notify.HOLD_REASONS:
            _hold(doc, now)
            counts["held"] += 1
            return
        if refused:
            notify.dropped(channel, to, doc["subject"], doc["body"], kind=kind, ref=doc.get("ref"), reason=refused)
            _mark(doc, now, "dropped", reason=refused)
            counts["dropped"] += 1
            return
        doc["admitted"] = True
    notify.deliver(channel, to, doc["subject"], doc["body"], kind=kind)
    metrics.count(Metric.NOTIFICATION_SENT)
    _mark(doc, now, "sent", sentAt=now)
    counts["delivered"] += 1


# ---------------------------------------------------------------- the hourly digest (issue 21, item 1)


def _digest_id(channel: str, to: str, now: datetime) -> str:
    """One digest per recipient and hour; the address is hashed (ids show up in logs)."""
    who = hashlib.sha256(f"{channel}|{to}".encode()).hexdigest()[:24]
    return f"digest:{who}:{now:%Y%m%d%H}"


def _hold(doc: dict[str, Any], now: datetime) -> None:
    """Keep a notice over its cap for the recipient's digest of this hour. The digest first (one
    per recipient and hour, by its id), then the notice is marked held: a kill between them
    leaves the notice leased, to be held again when its lease runs out."""
    hour = now.replace(minute=0, second=0, microsecond=0)
    digest_id = _digest_id(doc["channel"], doc["to"], now)
    # Due a minute after the hour ends: a notice held in the hour's last moments is marked first.
    insert_unless_duplicate(get_db()[COLLECTION], {
        "_id": digest_id, "type": "digest", "kind": "digest", "ref": None, "channel": doc["channel"],
        "to": doc["to"], "status": "pending", "attempts": 0, "nextAttemptAt": hour + timedelta(hours=1, minutes=1),
        "createdAt": now, "updatedAt": now})
    logger.info("notification held for the digest", extra={"kind": doc["kind"], "ref": str(doc.get("ref"))})
    metrics.count(Metric.NOTIFICATION_HELD)
    _mark(doc, now, "held", digest=digest_id)


def _deliver_digest(doc: dict[str, Any], now: datetime, counts: dict[str, int]) -> None:
    """One PHI-free message for the notices held in its hour ("3 new bookings and 2
    cancellations — open your appointments"); it spends one of the recipient's own budget
    (`notify.count_digest`), however many notices it sums up."""
    coll = get_db()[COLLECTION]
    held = list(coll.find({"digest": doc["_id"]}, {"kind": 1, "status": 1}))
    kinds = Counter(str(h["kind"]) for h in held if h.get("status") == "held")
    if not kinds:
        _mark(doc, now, "done", doneAt=now)
        counts["handled"] += 1
        return
    subject, body = notify.digest_text(kinds)
    if doc["attempts"] <= 1:
        notify.count_digest(doc["channel"], doc["to"])
    notify.deliver(doc["channel"], doc["to"], subject, body, kind="digest")
    metrics.count(Metric.NOTIFICATION_SENT)
    _mark(doc, now, "sent", sentAt=now, summed=sum(kinds.values()))
    coll.update_many({"digest": doc["_id"], "status": "held"}, {"$set": {"status": "digested", "updatedAt": now}})
    counts["delivered"] += 1


def sweep(now: datetime) -> dict[str, int]:
    """The platform sweeper's part (core.jobs): whatever is due that no kick delivered."""
    return deliver_due(now=now)


# Entries that are finished (sent, done, dropped, failed, digested) are kept this long (support:
# did the SMS go?), then deleted: they hold contacts and message texts. Shorter than any sensible
# DELETION_GRACE_DAYS, so an erased account's messages are gone by its erase.
RETENTION = timedelta(days=7)
FINISHED = ("sent", "done", "dropped", "failed", "digested")


def purge_finished(now: datetime) -> dict[str, int]:
    """The sweeper's part: finished entries older than `RETENTION` (by `nextAttemptAt`, the last
    lease; index `due`), one delete per status."""
    before = now - RETENTION
    purged = sum(int(get_db()[COLLECTION].delete_many({"status": status, "nextAttemptAt": {"$lte": before}})
                     .deleted_count) for status in FINISHED)
    return {"notificationsPurged": purged}
