"""pytest plugin: records the shape of every command the suite sends (pymongo command monitoring).

- Commands sent by the application code (a frame under `functions/` on the stack) during any
  test outside tests/db are *used* shapes, with the filters' equality fields per collection.
- Commands sent during the call phase of a conformance test in tests/db that passed (not an
  expected failure, not marked `known_difference`) are *proven* shapes.

`test_zz_coverage.py` runs last and fails when a used shape was never proven on the server under
test, or when an application query has no declared index led by one of its equality fields.
So a new query shape needs a conformance test first.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pymongo import monitoring

from tests.db.shapes import command_shapes, equality_fields, filter_clauses, filter_of, range_fields

APP_DIR = str(Path(__file__).resolve().parents[2] / "functions")
WATCHED = {"find", "findAndModify", "update", "delete", "aggregate", "count", "distinct", "createIndexes"}
CONFORMANCE_PREFIX = "tests/db/"


def _sent_by_app() -> bool:
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code.co_filename.startswith(APP_DIR):
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False


@dataclass
class AppQuery:
    collection: str
    equality: frozenset[str]
    clauses: tuple[str, ...]
    command: str
    test: str
    ranged: frozenset[str] = frozenset()  # fields compared with $lt/$lte/$gt/$gte
    sort_first: str | None = None
    limited: bool = False
    largest_id_in: int = 0  # the most ids one `_id: {$in: [...]}` of this shape asked for


@dataclass
class Recorder(monitoring.CommandListener):
    test: str | None = None
    in_call: bool = False
    pending: list[str] = field(default_factory=list)
    proven: set[str] = field(default_factory=set)
    used: dict[str, str] = field(default_factory=dict)
    queries: dict[tuple[str, frozenset[str], tuple[str, ...]], AppQuery] = field(default_factory=dict)

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        name, test = event.command_name, self.test
        if name not in WATCHED or test is None:
            return
        command = event.command
        if test.startswith(CONFORMANCE_PREFIX):
            if self.in_call:
                self.pending.extend(command_shapes(name, command))
            return
        if not _sent_by_app():
            return
        for shape in command_shapes(name, command):
            self.used.setdefault(shape, test)
        collection = str(command.get(name))
        sort = command.get("sort") or {}
        for query in filter_of(name, command):
            key = (collection, frozenset(equality_fields(query)), tuple(sorted(filter_clauses(query))))
            seen = self.queries.setdefault(key, AppQuery(
                collection, key[1], key[2], name, test, frozenset(range_fields(query)),
                next(iter(sort), None), bool(command.get("limit"))))
            id_in = query.get("_id")
            if isinstance(id_in, dict) and isinstance(id_in.get("$in"), list):
                seen.largest_id_in = max(seen.largest_id_in, len(id_in["$in"]))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass

    def unindexed(self, leading: dict[str, set[str]]) -> list[AppQuery]:
        """Queries no declared index serves. Index-backed means: an equality on the first key of an
        index (or `_id`). Two kinds of read are allowed without one, both index-backed on MongoDB:
        the purge of expired documents (a delete by a range on an index's first key, the TTL
        index's job there) and an administrator's paged list of everything (no filter, sorted by
        an index's first key, with a limit)."""
        def served(q: AppQuery) -> bool:
            keys = leading.get(q.collection, {"_id"})
            if q.equality & keys:
                return True
            if q.command == "delete" and not q.equality and q.ranged & keys:
                return True
            return not q.clauses and q.limited and q.sort_first in keys

        return [q for q in self.queries.values() if not served(q)]

    def unproven(self) -> dict[str, str]:
        return {shape: test for shape, test in sorted(self.used.items()) if shape not in self.proven}


RECORDER = Recorder()
monitoring.register(RECORDER)  # before any client exists: listeners apply to clients made later


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "known_difference: a shape the embedded server answers differently from MongoDB; "
                   "never counts as proven, so the code cannot use it")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    RECORDER.test = item.nodeid
    yield
    RECORDER.test = None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    RECORDER.pending.clear()
    RECORDER.in_call = True
    yield
    RECORDER.in_call = False


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when != "call" or not report.nodeid.startswith(CONFORMANCE_PREFIX):
        return
    if report.passed and not hasattr(report, "wasxfail") and "known_difference" not in report.keywords:
        RECORDER.proven.update(RECORDER.pending)
    RECORDER.pending.clear()


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The coverage checks judge what every other test sent: they run last."""
    last = [item for item in items if "test_zz_coverage" in item.nodeid]
    items[:] = [item for item in items if item not in last] + last


def recorder() -> Any:
    return RECORDER


def pytest_sessionfinish(session: pytest.Session) -> None:
    """`SHAPES_REPORT=path` writes what this run used and proved, for whoever adds a shape."""
    import json
    import os

    path = os.environ.get("SHAPES_REPORT")
    if path:
        Path(path).write_text(json.dumps({
            "used": RECORDER.used,
            "proven": sorted(RECORDER.proven),
            "unproven": RECORDER.unproven(),
            "queries": [q.__dict__ | {"equality": sorted(q.equality)} for q in RECORDER.queries.values()],
        }, indent=1, default=str))
