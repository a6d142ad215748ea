"""The pharmacy's periodic sweep.

The pharmacy's periodic sweep (listed in `functions/registry.py`, run by `core.jobs`): expired
payment holds give their stock back, orders the pharmacy has not confirmed within
`ORDER_CONFIRM_HOURS` are cancelled ("not confirmed in time"), and the repair of what a failed
or interrupted request left (`repair.repair`): stock takes, prescription reservations and
customers' holds whose order was never stored (or was cancelled) are given back, once.
"""

from __future__ import annotations

from datetime import datetime

from functions.core import clock, metrics
from functions.core.metrics import Metric
from functions.pharmacy import cancellation, payment_hold, repair


def sweep(now: datetime | None = None) -> dict[str, int]:
    now = now or clock.now()
    repaired = repair.repair(now)
    metrics.count(Metric.REPAIR_SWEEP_FIXED, sum(repaired.values()))
    return {"expiredOrderHolds": payment_hold.release_expired(now),
            "unconfirmedOrdersCancelled": cancellation.cancel_unconfirmed(now, payment_hold.SWEEP_BATCH), **repaired}
