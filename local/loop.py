"""The loop behind `make run`'s stand-ins for scheduled Lambdas (`local/sweeper.py` for the
sweeper rule, `local/outbox_worker.py` for the outbox queue): one tick every `--every` seconds,
kept alive when a tick fails, stopped quietly by SIGTERM or Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import threading
from collections.abc import Callable
from typing import Any


def repeat(tick: Callable[[], bool], stop: threading.Event, every: float, once: bool, what: str) -> int:
    """Run `tick` until `stop` is set (once only with `once`), waiting `every` seconds after each
    tick unless it returns True (more is due at once). A tick that raises is logged by its error's
    type, never its text, and the next tick tries again."""
    from functions.core.observability import logger

    while not stop.is_set():
        try:
            again = tick()
        except Exception as exc:  # keep the loop alive: the next tick tries again
            logger.warning(f"{what} failed", extra={"error": type(exc).__name__})
            again = False
        if once:
            break
        if not again:
            stop.wait(every)
    return 0


def main(argv: list[str] | None, *, prog: str, every: float, every_help: str, once_help: str,
         stop: threading.Event, run: Callable[[float, bool], int]) -> int:
    """The command line of one loop: `--every SECONDS`, `--once`; what it sends shows in make run's inbox."""
    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument("--every", type=float, default=every, help=every_help)
    parser.add_argument("--once", action="store_true", help=once_help)
    args = parser.parse_args(argv)
    from local import inbox

    inbox.install()

    def request_stop(signum: int, frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    return run(args.every, args.once)
