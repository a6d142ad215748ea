"""The auth domain's part of the periodic sweep (listed in `functions.registry`): the sockets of
users an admin deactivated or whose approval was withdrawn, when the decision's request could
not close them (the database or the gateway was away, the Lambda died after the write)."""

from __future__ import annotations

from datetime import datetime

from functions.core import users
from functions.core.observability import logger
from functions.signaling import api as signaling

SWEEP_BATCH = 100


def sweep(now: datetime | None = None) -> dict[str, int]:
    """Close the sockets each marked user opened before the decision (`users.sockets_to_close`,
    index-backed), then clear the mark: idempotent (closing twice closes nothing more), and safe
    beside a request in flight (a newer decision keeps its own mark)."""
    del now  # the decision's own time bounds what is closed
    closed = settled = 0
    for user in users.sockets_to_close(SWEEP_BATCH):
        before = user.get("closeSocketsBefore")
        closed += signaling.end_sessions(user["_id"], opened_before=before)
        settled += users.sockets_closed(user["_id"], before) if before is not None else 0
    if closed:
        logger.info("Sockets of deactivated or unapproved users closed", extra={"count": closed})
    return {"socketsClosed": closed, "socketDecisionsSettled": settled}
