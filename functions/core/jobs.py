"""The platform's periodic work in one place: each domain with periodic work exposes
`sweep(now) -> dict[str, int]`, and the composition root hands the list (`functions.registry.SWEEPS`)
to `sweep`; the `reminder_sweep` schedule (app.py) and `local/sweeper.py` under `make run` run it
every 5 minutes (every minute locally)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime

from functions.core import clock
from functions.core.observability import logger

Sweep = Callable[[datetime], Mapping[str, int]]


def sweep(sweeps: Iterable[tuple[str, Sweep]], now: datetime | None = None) -> dict[str, int]:
    """Run every domain's sweep (named for the logs); one failing does not stop the others (the
    next tick retries)."""
    now = now or clock.now()
    totals: dict[str, int] = {}
    for name, run in sweeps:
        try:
            result = run(now)
        except Exception as exc:
            logger.warning("sweep failed", extra={"sweep": name, "error": type(exc).__name__})
            continue
        for key, value in result.items():
            totals[key] = totals.get(key, 0) + int(value)
    return totals
