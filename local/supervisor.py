"""What keeps `make run`'s processes running: each one that exits is reaped (so that nothing is
left a zombie: PostgreSQL's own check of a stale `postmaster.pid` needs the old PID gone) and
started again, the same way and on the same ports, after a delay that doubles while it keeps
failing (`backoff`). Each exit and each return is printed.

`check()` does one round and never blocks for long; `make run` calls it from its main thread
every `TICK` seconds. Keep it there: the database's processes are started with a parent-death
signal (`embedded_db._dies_with_parent`), which Linux ties to the thread that started them.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

TICK = 0.2  # seconds between rounds
STABLE = 30.0  # a process that ran this long before it exited starts again at the first delay
FIRST_DELAY, LAST_DELAY = 0.25, 30.0


def backoff(failures: int) -> float:
    """Seconds before the next start of a process that exited `failures` times in a row (counting
    this one, from 1): 0.25, 0.5, 1, 2, … up to 30."""
    return float(min(LAST_DELAY, FIRST_DELAY * 2 ** max(0, failures - 1)))


def ended(code: int) -> str:
    """How a process ended, from `Popen.returncode`."""
    if code >= 0:
        return f"exited with code {code}"
    try:
        return f"was killed by {signal.Signals(-code).name}"
    except ValueError:
        return f"was killed by signal {-code}"


def accepting(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
    except OSError:
        return False
    return True


@dataclass
class Child:
    """A supervised process: how to start it (`launch` starts it again exactly as the first time,
    and returns the new process) and the ports it serves once it is up."""

    name: str
    launch: Callable[[], subprocess.Popen[Any]]
    ports: tuple[int, ...] = ()
    process: subprocess.Popen[Any] | None = None
    since: float = 0.0  # when the current process started
    failures: int = 0  # exits in a row, each after less than STABLE seconds
    restarts: int = 0
    due: float | None = None  # when it is started again (it is down until then)
    down_since: float | None = None  # it is not serving: dead, or started again and its ports not yet open


@dataclass
class Supervisor:
    say: Callable[[str], None]
    clock: Callable[[], float] = time.monotonic
    children: list[Child] = field(default_factory=list)
    stopping: bool = False  # set by make run's Ctrl-C, which its children may get too: none is restarted

    def watch(self, name: str, launch: Callable[[], subprocess.Popen[Any]], ports: tuple[int, ...] = (),
              process: subprocess.Popen[Any] | None = None) -> Child:
        """Supervise `process` (already started with `launch`), or start it now."""
        child = Child(name, launch, ports, process if process is not None else launch(), self.clock())
        self.children.append(child)
        return child

    def check(self) -> None:
        """One round: reap what exited and schedule its start, start what is due, and say which
        ones serve again."""
        for child in self.children:
            if self.stopping:
                return
            now = self.clock()
            if child.due is not None:
                if now >= child.due:
                    self._start(child, now)
            elif child.process is not None and child.process.poll() is not None:  # poll() reaps it
                self._exited(child, child.process, now)
            elif child.down_since is not None and all(accepting(port) for port in child.ports):
                assert child.process is not None
                self.say(f"{child.name} up again (pid {child.process.pid}), "
                         f"{now - child.down_since:.1f} s after it stopped")
                child.down_since = None

    def _exited(self, child: Child, process: subprocess.Popen[Any], now: float) -> None:
        ran = now - child.since
        child.failures = 1 if ran >= STABLE else child.failures + 1
        delay = backoff(child.failures)
        child.due, child.restarts = now + delay, child.restarts + 1
        if child.down_since is None:
            child.down_since = now
        self.say(f"{child.name} (pid {process.pid}) {ended(process.returncode)} after {ran:.1f} s; "
                 f"starting it again in {delay:.2f} s (restart {child.restarts})")

    def _start(self, child: Child, now: float) -> None:
        child.due = None
        try:
            child.process = child.launch()
        except OSError as exc:  # not even started: counts as one more failure
            child.failures += 1
            delay = backoff(child.failures)
            child.due = now + delay
            self.say(f"{child.name} did not start ({exc}); trying again in {delay:.2f} s")
            return
        child.since = now
