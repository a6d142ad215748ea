"""A payment's statuses and the one table they move along: each change is one conditional
update whose filter lists the statuses it may start from (`SOURCES`), so webhook events applied
twice, late or out of order never move a payment backwards (a failure after the success changes
nothing). Pure: no I/O."""

from __future__ import annotations

from datetime import datetime
from typing import Any

REQUIRES_PAYMENT, SUCCEEDED, FAILED, CANCELED = "requires_payment", "succeeded", "failed", "canceled"
REFUND_PENDING, REFUNDED = "refund_pending", "refunded"
OPEN = (REQUIRES_PAYMENT, FAILED, CANCELED)  # a new intent may replace the current one
# History entries that record a step without a status of their own.
PARTIALLY_REFUNDED, REFUND_REQUESTED = "partially_refunded", "refund_requested"
# A success that did not take what was charged: the payment keeps its status and gets `flagged`
# (issue 21 item 11); MISMATCH is the flag's reason. `review: FLAGGED` (top level, indexed) puts it
# on the admins' list of flagged payments (`review`).
FLAGGED, MISMATCH = "flagged", "amount_or_currency_mismatch"

# target status -> the statuses it may be reached from
SOURCES: dict[str, tuple[str, ...]] = {
    SUCCEEDED: OPEN,
    FAILED: (REQUIRES_PAYMENT, FAILED),
    CANCELED: (REQUIRES_PAYMENT, FAILED),
    REFUND_PENDING: (SUCCEEDED,),
    REFUNDED: (SUCCEEDED, REFUND_PENDING),
}
# what the owner of the target is told
OUTCOME = {SUCCEEDED: "paid", FAILED: "failed", CANCELED: "canceled", REFUNDED: "refunded"}


def history_entry(status: str, now: datetime, **extra: Any) -> dict[str, Any]:
    """One entry of a payment's `history` (the fields given, without those that are None)."""
    return {"status": status, "at": now, **{k: v for k, v in extra.items() if v is not None}}
