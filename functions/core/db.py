"""MongoDB access shared by every domain.

One `MongoClient` per Lambda container, created on first use and reused. Each module that owns
a collection declares `INDEXES = {collection: [IndexModel, ...]}`; `functions.registry` lists
them and hands them to `ensure_indexes` (`python -m functions.registry ensure-indexes`, or
`python -m functions.core.db ensure-indexes`, which runs the same).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from bson import ObjectId
from bson.errors import InvalidId

from functions.core.config import get_settings
from functions.core.errors import NotFound

if TYPE_CHECKING:
    from pymongo import IndexModel, MongoClient
    from pymongo.collection import Collection
    from pymongo.database import Database

_client: MongoClient[dict[str, Any]] | None = None
_client_uri: str | None = None


def get_client() -> MongoClient[dict[str, Any]]:
    """The container's client. Kept by hand, not by `functools.cache` (the other singletons of
    core): a changed MONGODB_URI (tests) must close the client it replaces, and a forked container
    (tests/lambda_race.py) forgets its parent's client without closing the shared sockets."""
    global _client, _client_uri
    settings = get_settings()
    if _client is None or _client_uri != settings.mongodb_uri:
        from pymongo import MongoClient

        if _client is not None:
            _client.close()
        _client = MongoClient(
            settings.mongodb_uri,
            tz_aware=True,
            appname="cureconnect",
            serverSelectionTimeoutMS=settings.mongodb_timeout_ms,
            connectTimeoutMS=settings.mongodb_timeout_ms,
            socketTimeoutMS=settings.mongodb_socket_timeout_ms,  # a server that stops answering
            # A Lambda container serves one request at a time: one application connection, closed
            # when idle, and a polling monitor (no second, streaming one) per replica-set member.
            maxPoolSize=settings.mongodb_max_pool_size,
            minPoolSize=settings.mongodb_min_pool_size,
            maxIdleTimeMS=settings.mongodb_max_idle_time_ms,
            serverMonitoringMode=settings.mongodb_server_monitoring_mode,
        )
        _client_uri = settings.mongodb_uri
    return _client


def get_db() -> Database[dict[str, Any]]:
    return get_client()[get_settings().mongodb_db]


def close_client() -> None:
    global _client, _client_uri
    if _client is not None:
        _client.close()
    _client, _client_uri = None, None


def object_id(value: Any, what: str = "Resource") -> ObjectId:
    """Parse a 24-hex id from the API; anything else is a 404, never a 500."""
    if isinstance(value, ObjectId):
        return value
    if isinstance(value, str) and len(value) == 24:
        try:
            return ObjectId(value)
        except InvalidId:
            pass
    raise NotFound.of(what)


def maybe_object_id(value: Any) -> ObjectId | None:
    try:
        return object_id(value)
    except NotFound:
        return None


def is_database_away(exc: BaseException) -> bool:
    """The database did not answer: the connection dropped or timed out, or no server was
    selected in time (pymongo's `ConnectionFailure` family, or any of its errors it marks as a
    timeout). Refusals the server did answer (duplicate keys, bad values) are not."""
    from pymongo.errors import ConnectionFailure, PyMongoError

    return isinstance(exc, ConnectionFailure) or (isinstance(exc, PyMongoError) and exc.timeout)


# How the embedded FerretDB reports a unique violation on an *update* (code 1, not 11000):
# its SQLite backend names the SQLite constraint, its PostgreSQL backend the SQLSTATE.
_UPDATE_UNIQUE_VIOLATIONS = ("UNIQUE constraint failed", "SQLSTATE 23505")


def is_duplicate_key(exc: Exception) -> bool:
    """A unique index refused the write: E11000 on MongoDB (and on FerretDB for inserts), or
    one of FerretDB's update forms above. tests/db proves each form on the server it runs on."""
    from pymongo.errors import DuplicateKeyError, OperationFailure

    if isinstance(exc, DuplicateKeyError):
        return True
    return isinstance(exc, OperationFailure) and (
        exc.code == 11000 or any(form in str(exc) for form in _UPDATE_UNIQUE_VIOLATIONS))


class Refusal:
    """Whether a write guarded by `unless_duplicate` was refused by a unique index (truthy then)."""

    refused = False

    def __bool__(self) -> bool:
        return self.refused


@contextmanager
def unless_duplicate() -> Iterator[Refusal]:
    """Run the block's one write; a unique index refusing it (`is_duplicate_key`) is not an
    error but an answer, read from the yielded `Refusal` after the block:

        with unless_duplicate() as taken:
            collection.update_one({"_id": key, "until": {"$lte": now}}, {"$set": ...}, upsert=True)
        return not taken

    Any other error propagates. The one place that catches a duplicate key."""
    from pymongo.errors import DuplicateKeyError, OperationFailure

    refusal = Refusal()
    try:
        yield refusal
    except (DuplicateKeyError, OperationFailure) as exc:
        if not is_duplicate_key(exc):
            raise
        refusal.refused = True


def insert_unless_duplicate(collection: Collection[dict[str, Any]], doc: dict[str, Any]) -> bool:
    """Insert `doc` (pymongo sets its `_id` when it has none); False, with nothing written, when
    a unique index (its `_id` included) refuses it."""
    with unless_duplicate() as refused:
        collection.insert_one(doc)
    return not refused


class BulkRefusal:
    """What unique indexes refused in a bulk insert guarded by `insert_many_unless_duplicate`:
    the positions of the refused documents in the request (truthy when any), and how many went in."""

    def __init__(self, inserted: int = 0, refused: Sequence[int] = ()) -> None:
        self.inserted, self.refused = inserted, list(refused)

    def __bool__(self) -> bool:
        return bool(self.refused)


def insert_many_unless_duplicate(collection: Collection[dict[str, Any]], docs: Sequence[dict[str, Any]], *,
                                 ordered: bool) -> BulkRefusal:
    """Insert `docs` in one `insert_many`. Ordered, the first document a unique index refuses
    stops the rest (those before it are in); unordered, every other document goes in. A refusal
    is an answer (`BulkRefusal`), not an error; any other write error propagates. The bulk form
    of `unless_duplicate` (a bulk write reports its refusals per statement, code 11000)."""
    from pymongo.errors import BulkWriteError

    try:
        return BulkRefusal(len(collection.insert_many(docs, ordered=ordered).inserted_ids))
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors") or []
        if not errors or not all(e.get("code") == 11000 or "duplicate" in str(e.get("errmsg", "")).lower()
                                 for e in errors):
            raise
        return BulkRefusal(int(exc.details.get("nInserted", 0)), [int(e.get("index", 0)) for e in errors])


Migration = Callable[["Database[dict[str, Any]]"], int]


def collect_indexes(declared: Iterable[Mapping[str, Sequence[IndexModel]]]) -> dict[str, list[IndexModel]]:
    """The declared `INDEXES` maps merged by collection."""
    collected: dict[str, list[IndexModel]] = {}
    for indexes in declared:
        for collection, models in indexes.items():
            collected.setdefault(collection, []).extend(models)
    return collected


def _without_ttl(model: IndexModel) -> IndexModel:
    from pymongo import IndexModel

    options = {k: v for k, v in model.document.items() if k not in ("key", "expireAfterSeconds")}
    return IndexModel(list(model.document["key"].items()), **options)


def _create_index(collection: Collection[dict[str, Any]], model: IndexModel) -> str:
    """One index per command: FerretDB 1.24 drops the connection (a server panic) on a
    multi-index createIndexes whose indexes all exist already, i.e. on every re-run. It cannot do
    TTL either (NotImplemented, code 238): such an index is then created without expiry, and code
    that relies on expiry also filters by time."""
    from pymongo.errors import OperationFailure

    try:
        return collection.create_indexes([model])[0]
    except OperationFailure as exc:
        if exc.code != 238 or "expireAfterSeconds" not in model.document:
            raise
    return collection.create_indexes([_without_ttl(model)])[0]


def run_migrations(db: Database[dict[str, Any]], migrations: Iterable[Migration]) -> dict[str, int]:
    """Idempotent functions `(db) -> int` (documents changed) that bring existing data up to
    what the code expects (a store declares them in `MIGRATIONS`); run after the indexes."""
    return {f"{m.__module__}.{m.__name__}": int(m(db)) for m in migrations}


def ensure_indexes(declared: Iterable[Mapping[str, Sequence[IndexModel]]], migrations: Iterable[Migration] = (),
                   db: Database[dict[str, Any]] | None = None) -> dict[str, list[str]]:
    target = db if db is not None else get_db()
    created: dict[str, list[str]] = {}
    for collection, models in collect_indexes(declared).items():
        if models:
            created[collection] = [_create_index(target[collection], m) for m in models]
    run_migrations(target, migrations)
    return created


def main(argv: list[str], ensure: Callable[[], dict[str, list[str]]]) -> int:
    """The `ensure-indexes` command; `ensure` is the registry's (the composition root's lists)."""
    if argv[:1] != ["ensure-indexes"]:
        print("usage: python -m functions.registry ensure-indexes", file=sys.stderr)
        return 2
    created = ensure()
    total = sum(len(v) for v in created.values())
    print(f"ensured {total} indexes on {len(created)} collections in {get_settings().mongodb_db!r}")
    return 0


if __name__ == "__main__":  # `make run` calls this name: the same command as `python -m functions.registry`
    import runpy  # (core never imports the registry; the registry hands core its lists)

    runpy.run_module("functions.registry", run_name="__main__", alter_sys=True)
