"""Under `make run` there is no EventBridge: this loop stands in for the `reminder_sweep` rule
(and, since moto's Scheduler never fires, for the one-off reminder schedules too). Every
`--every` seconds it calls the same sweeper function the Lambda calls. Ctrl-C stops it quietly.

    python -m local.sweeper [--every 60] [--once]
"""

from __future__ import annotations

import sys
import threading

from local import loop

_stop = threading.Event()


def run(every: float, once: bool = False) -> int:
    from functions.core.observability import logger
    from functions.registry import plug_ports, sweep

    def sweep_once() -> bool:
        result = sweep()
        if any(result.values()):
            logger.info("sweep", extra=result)
        return False

    plug_ports()  # its outbox sweep runs the domains' effect handlers (functions.registry.EFFECTS)
    return loop.repeat(sweep_once, _stop, every, once, "sweep")


def main(argv: list[str] | None = None) -> int:
    return loop.main(argv, prog="python -m local.sweeper", every=60.0,
                     every_help="seconds between sweeps (default 60)", once_help="sweep once and exit",
                     stop=_stop, run=run)


if __name__ == "__main__":
    sys.exit(main())
