"""Fault injection at the database: make the k-th command a use case sends fail.

pymongo's event listeners cannot fail a command (the driver swallows their exceptions), so the
fault sits in front of the driver: `inject(plan)` wraps the client that `functions.core.db.get_db()`
hands out, and every collection method that sends a command counts one step. The k-th one fails
in one of two ways:

- `Fault.REFUSED`: the command never reaches the server (`AutoReconnect`, as when the connection
  drops before the write is sent), so nothing of it applies;
- `Fault.REPLY_LOST`: the command runs on the server, then its reply is lost (`NetworkTimeout`),
  so it applies but the caller sees an error.

A test walks k over every step of a use case (the plan records how many there were on a clean
run) and checks the invariants after each failure:

    steps = count_steps(lambda: book(...))
    for k in range(1, steps + 1):
        for fault in Fault:
            with inject(FaultPlan(fail_at=k, fault=fault)):
                attempt()
            assert_invariants()
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

# Collection methods that send a command (or, for `find` and `aggregate`, open the cursor
# whose first batch is the command). Anything else is passed through untouched.
COMMANDS = frozenset({
    "find", "find_one", "aggregate", "count_documents", "estimated_document_count", "distinct",
    "insert_one", "insert_many", "update_one", "update_many", "replace_one", "delete_one",
    "delete_many", "find_one_and_update", "find_one_and_delete", "find_one_and_replace",
    "bulk_write",
})


class Fault(enum.Enum):
    REFUSED = "refused"        # never applied
    REPLY_LOST = "reply_lost"  # applied, the caller sees an error


@dataclass
class FaultPlan:
    """Fail the `fail_at`-th command (1-based) in the way `fault` says; None counts only."""

    fail_at: int | None = None
    fault: Fault = Fault.REFUSED
    seen: list[str] = field(default_factory=list)  # "collection.method" of every command sent
    fired: bool = False

    def step(self, name: str, run: Callable[[], Any]) -> Any:
        from pymongo.errors import AutoReconnect, NetworkTimeout

        self.seen.append(name)
        if self.fail_at is None or len(self.seen) != self.fail_at:
            return run()
        self.fired = True
        if self.fault is Fault.REFUSED:
            raise AutoReconnect(f"injected: {name} refused before it applied")
        result = run()
        if hasattr(result, "to_list"):  # a cursor: its first batch is the command that ran
            result.to_list()
        raise NetworkTimeout(f"injected: {name} applied, its reply lost")


class _Collection:
    def __init__(self, inner: Any, plan: FaultPlan) -> None:
        self._inner, self._plan = inner, plan

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if name not in COMMANDS:
            return attr

        def command(*args: Any, **kwargs: Any) -> Any:
            return self._plan.step(f"{self._inner.name}.{name}", lambda: attr(*args, **kwargs))

        return command

    def __getitem__(self, name: str) -> _Collection:
        return _Collection(self._inner[name], self._plan)


class _Database:
    def __init__(self, inner: Any, plan: FaultPlan) -> None:
        self._inner, self._plan = inner, plan

    def __getitem__(self, name: str) -> _Collection:
        return _Collection(self._inner[name], self._plan)

    def get_collection(self, name: str, *args: Any, **kwargs: Any) -> _Collection:
        return _Collection(self._inner.get_collection(name, *args, **kwargs), self._plan)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class _Client:
    def __init__(self, inner: Any, plan: FaultPlan) -> None:
        self._inner, self._plan = inner, plan

    def __getitem__(self, name: str) -> _Database:
        return _Database(self._inner[name], self._plan)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


@contextmanager
def inject(plan: FaultPlan) -> Iterator[FaultPlan]:
    """Every `get_db()` inside the block answers through `plan`."""
    from functions.core import db as core_db

    real = core_db.get_client
    core_db.get_client = lambda: _Client(real(), plan)  # type: ignore[assignment,return-value]
    try:
        yield plan
    finally:
        core_db.get_client = real


def count_steps(action: Callable[[], Any]) -> list[str]:
    """The commands `action` sends on a clean run, in order."""
    with inject(FaultPlan()) as plan:
        action()
    return plan.seen
