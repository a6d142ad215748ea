"""Under `make run` there is no SQS: this loop stands in for the `outbox_worker` Lambda
(`OUTBOX_DELIVERY=poll`, so a request's `outbox.kick()` does nothing). Every `--every` seconds
(0.2 by default: a message goes out well under a second after its request) it delivers what is
due (`core.outbox.deliver_due`, with the composition root's handlers). Ctrl-C stops it quietly.

    python -m local.outbox_worker [--every 0.2] [--once]
"""

from __future__ import annotations

import sys
import threading

from local import loop

_stop = threading.Event()


def run(every: float, once: bool = False) -> int:
    from functions.core import outbox
    from functions.core.observability import logger
    from functions.registry import plug_ports

    def deliver() -> bool:
        result = outbox.deliver_due()
        if result["retried"]:
            logger.info("outbox delivered", extra=result)
        return bool(result["retried"] >= outbox.BATCH)  # a full batch: more may be due at once

    plug_ports()  # the handlers of the domains' effects (functions.registry.EFFECTS)
    return loop.repeat(deliver, _stop, every, once, "outbox delivery")


def main(argv: list[str] | None = None) -> int:
    return loop.main(argv, prog="python -m local.outbox_worker", every=0.2,
                     every_help="seconds between polls (default 0.2)", once_help="deliver what is due once and exit",
                     stop=_stop, run=run)


if __name__ == "__main__":
    sys.exit(main())
