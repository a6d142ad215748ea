"""Counting the database commands a block of a test sends: the one pymongo command listener the
round-trip tests share.

`COMMANDS` is registered with pymongo once, on import: pymongo's global listeners cannot be removed
and apply only to clients created afterwards (a test that needs the app's client to see it calls
`functions.core.db.close_client()` first). A test with a client of its own passes a `CommandLog` in
its `event_listeners`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from pymongo import monitoring

T = TypeVar("T")

# Commands a driver sends on its own that are not part of serving a request (bench/_harness.py).
DRIVER_COMMANDS = frozenset({"hello", "ismaster", "isMaster", "ping", "endSessions", "saslStart", "saslContinue",
                             "killCursors"})


class CommandLog(monitoring.CommandListener):
    """The commands sent inside `record()`, as `command:collection` (e.g. `find:users`), the driver's
    own left out. `request_path_only` also leaves out what threads named off-path-* send: the writes
    `core.outbox.defer` runs after the answer is built."""

    def __init__(self, *, request_path_only: bool = False) -> None:
        self.request_path_only = request_path_only
        self.recording = False
        self.sent: list[str] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if not self.recording or event.command_name in DRIVER_COMMANDS:
            return
        if self.request_path_only and threading.current_thread().name.startswith("off-path-"):
            return
        self.sent.append(f"{event.command_name}:{event.command.get(event.command_name)}")

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass

    @contextmanager
    def record(self) -> Iterator[list[str]]:
        """The block's commands: the list fills while the block runs."""
        self.sent, self.recording = [], True
        try:
            yield self.sent
        finally:
            self.recording = False

    def during(self, action: Callable[[], T]) -> tuple[T, list[str]]:
        """What `action` returns, and the commands it sent."""
        with self.record() as sent:
            result = action()
        return result, sent


def names(sent: list[str]) -> list[str]:
    """The command names alone: `["find:users", "update:x"]` -> `["find", "update"]`."""
    return [command.partition(":")[0] for command in sent]


COMMANDS = CommandLog()
monitoring.register(COMMANDS)
