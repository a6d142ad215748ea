"""The repair sweep: the backstop for what a compensation could not undo (the Lambda died
between two steps, or the database was away for the compensation too).

A claim or seat is left over when no live appointment accounts for it: the appointment it names
(`appt`, the id the booking chose before claiming) was never stored, is cancelled, or no longer
covers that cell (a move whose old cells were not released); a seat also when its appointment
is no longer active (completed, no-show). An unpaid hold is an appointment in `pending_payment`
(active), so it is never mistaken for a leftover. Only claims taken more than
REPAIR_AFTER_SECONDS ago are judged (requests in flight are younger: the API times out at 29 s),
read by their indexed UTC `madeOn` for the last few days (older leftovers go with the claims
purge of past days). Each is removed by its `_id` and the appointment it names, so a cell someone
else claimed since is never touched; running it again finds nothing more (idempotent).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId

from functions.appointments import claims
from functions.appointments.grid import aware
from functions.appointments.status import ACTIVE, CANCELLED
from functions.appointments.stores import appointments as store
from functions.core.config import get_settings
from functions.core.observability import logger

LOOKBACK_DAYS = 3  # claims made on these many past UTC days (and today) are judged
BATCH = 100  # appointments looked up per read (a page of ids)


def _leftovers(claim: dict[str, Any], holder: dict[str, Any] | None) -> bool:
    if holder is None or holder.get("status") == CANCELLED:
        return True
    if claim.get("kind") == "seat":
        return holder.get("status") not in ACTIVE
    cells, _ = claims.cells_of(holder["doctor"], holder["patient"], aware(holder["start"]), aware(holder["end"]),
                               int(holder.get("bufferMinutes") or 0))
    return claim["_id"] not in set(cells)


def sweep(now: datetime) -> dict[str, int]:
    """Release the claims and seats no live appointment accounts for; counted."""
    cutoff = now - timedelta(seconds=get_settings().repair_after_seconds)
    found: list[dict[str, Any]] = []
    for d in range(LOOKBACK_DAYS + 1):
        found += claims.recent(f"{(cutoff - timedelta(days=d)).astimezone(UTC):%Y-%m-%d}", cutoff)
    by_holder: dict[ObjectId, list[dict[str, Any]]] = {}
    for claim in found:
        by_holder.setdefault(claim["appt"], []).append(claim)
    names = list(by_holder)
    orphans: dict[ObjectId, list[str]] = {}
    for i in range(0, len(names), BATCH):
        batch = names[i:i + BATCH]
        holders = store.claim_holders(batch)
        for name in batch:
            left = [c["_id"] for c in by_holder[name] if _leftovers(c, holders.get(name))]
            if left:
                orphans[name] = left
    released = sum(claims.release_claims(appt, ids) for appt, ids in orphans.items())
    if released:
        logger.info("repair sweep released leftover claims", extra={"released": released,
                                                                     "appointments": len(orphans)})
    return {"claimsRepaired": released}
