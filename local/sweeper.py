"""Under `make run` there is no EventBridge: this loop stands in for the `reminder_sweep` rule
(and, since moto's Scheduler never fires, for the one-off reminder schedules too). Every
`--every` seconds it calls the same sweeper function the Lambda calls. Ctrl-C stops it quietly.

    python -m local.sweeper [--every 60] [--once]
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Any

_stop = threading.Event()


def _request_stop(signum: int, frame: Any) -> None:
    _stop.set()


def run(every: float, once: bool = False) -> int:
    from functions.core.observability import logger
    from functions.registry import plug_ports, sweep

    plug_ports()  # its outbox sweep runs the domains' effect handlers (functions.registry.EFFECTS)
    while not _stop.is_set():
        try:
            result = sweep()
            if any(result.values()):
                logger.info("sweep", extra=result)
        except Exception as exc:  # keep the loop alive: the next tick tries again
            logger.warning("sweep failed", extra={"error": type(exc).__name__})
        if once:
            break
        _stop.wait(every)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.sweeper")
    parser.add_argument("--every", type=float, default=60.0, help="seconds between sweeps (default 60)")
    parser.add_argument("--once", action="store_true", help="sweep once and exit")
    args = parser.parse_args(argv)
    from local import inbox

    inbox.install()  # messages it retries or sends (reminders) show in make run's inbox
    signal.signal(signal.SIGTERM, _request_stop)
    signal.signal(signal.SIGINT, _request_stop)
    return run(args.every, args.once)


if __name__ == "__main__":
    sys.exit(main())
