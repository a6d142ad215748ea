"""The pharmacy's periodic sweep.

The pharmacy's periodic sweep (listed in `functions/registry.py`, run by `core.jobs`): expired
payment holds give their stock back, and Idempotency-Key claims of past days are dropped.
"""

from __future__ import annotations

from datetime import datetime

from functions.core import clock
from functions.pharmacy import payment_hold, placing


def sweep(now: datetime | None = None) -> dict[str, int]:
    now = now or clock.now()
    return {"expiredOrderHolds": payment_hold.release_expired(now), "orderRequestsPurged": placing.purge_requests(now)}
