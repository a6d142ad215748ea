"""Under `make run` there is no SQS: this loop stands in for the `outbox_worker` Lambda
(`OUTBOX_DELIVERY=poll`, so a request's `outbox.kick()` does nothing). Every `--every` seconds
(0.2 by default: a message goes out well under a second after its request) it delivers what is
due (`core.outbox.deliver_due`, with the composition root's handlers). Ctrl-C stops it quietly.

    python -m local.outbox_worker [--every 0.2] [--once]
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
    from functions.core import outbox
    from functions.core.observability import logger
    from functions.registry import plug_ports

    plug_ports()  # the handlers of the domains' effects (functions.registry.EFFECTS)
    while not _stop.is_set():
        try:
            result = outbox.deliver_due()
            if result["retried"]:
                logger.info("outbox delivered", extra=result)
        except Exception as exc:  # keep the loop alive: the next tick tries again
            logger.warning("outbox delivery failed", extra={"error": type(exc).__name__})
            result = {"retried": 0}
        if once:
            break
        if result["retried"] < outbox.BATCH:  # a full batch: more may be due at once
            _stop.wait(every)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.outbox_worker")
    parser.add_argument("--every", type=float, default=0.2, help="seconds between polls (default 0.2)")
    parser.add_argument("--once", action="store_true", help="deliver what is due once and exit")
    args = parser.parse_args(argv)
    from local import inbox

    inbox.install()  # what it sends (and drops) shows in make run's inbox
    signal.signal(signal.SIGTERM, _request_stop)
    signal.signal(signal.SIGINT, _request_stop)
    return run(args.every, args.once)


if __name__ == "__main__":
    sys.exit(main())
