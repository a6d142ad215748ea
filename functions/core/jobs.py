"""The platform's periodic work in one place: each domain with periodic work exposes
`sweep(now) -> dict[str, int]` and is listed here; the `reminder_sweep` schedule (app.py) and
`local/sweeper.py` under `make run` call `sweep()` every 5 minutes (every minute locally)."""

from __future__ import annotations

import importlib
from datetime import datetime

from functions.core import clock
from functions.core.observability import logger

# A domain adds its module here (small additive edit).
SWEEPERS: tuple[str, ...] = (
    "functions.appointments.jobs",  # due reminders, claims of past days
    "functions.appointments.payment",  # unpaid holds whose time ran out
    "functions.auth.service",  # expired login-failure windows, verification codes
    "functions.core.notify",  # failed notifications, message counters of past days
    "functions.prescriptions.service",  # expired verification rate-limit buckets
    "functions.payments.service",  # refunds to retry, paid appointments cancelled elsewhere
    "functions.pharmacy.orders",  # unpaid online orders whose payment hold expired give their stock back
    "functions.signaling.service",  # unanswered emergencies, stale connections, idle rooms, old throttles
)


def sweep(now: datetime | None = None) -> dict[str, int]:
    """Run every domain's sweep; one failing does not stop the others (the next tick retries)."""
    now = now or clock.now()
    totals: dict[str, int] = {}
    for name in SWEEPERS:
        try:
            result = importlib.import_module(name).sweep(now)
        except Exception as exc:
            logger.warning("sweep failed", extra={"module": name, "error": type(exc).__name__})
            continue
        for key, value in result.items():
            totals[key] = totals.get(key, 0) + int(value)
    return totals
