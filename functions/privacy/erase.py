"""The erase of a closed account after its grace period (issue 24 §3), a part of the privacy
sweep (`deletion.sweep`, listed in `functions.registry.SWEEPS`).

For each account whose `eraseAfter` has passed: `users.start_erase` marks it `erasing` (from then
on an admin's restore answers 410), then each domain erases what it owns through its seam (one
owner per collection; the retention table in the README says what each keeps and why):
media (files and records), appointments (a patient's appointments and waitlist, a doctor's
snapshots), pharmacy (orders anonymised, holds), signaling (chat messages, connections,
emergencies), emergency (a doctor's on-call phone, the call-back requests from the account's
number), the audit trail (the actor's name removed, the id kept); last, `users.tombstone` leaves
`status: erased` with no personal field and a placeholder contact (the contact is free for a new
sign-up). Every step is idempotent and the tombstone is the last write, so an erase a crash
interrupts is run again whole by the next sweep (it finds the account `erasing`).

Kept: prescriptions and the audit trail about the user, for RECORD_RETENTION_YEARS after the
erase, then deleted by this sweep (`end_retention`); payment records (amounts, ids) as they are.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from functions.appointments import api as appointments
from functions.core import audit, users
from functions.core.config import get_settings
from functions.core.observability import logger
from functions.emergency import api as emergency
from functions.media import api as media
from functions.pharmacy import api as pharmacy
from functions.prescriptions import api as prescriptions
from functions.signaling import api as signaling

BATCH = 20  # accounts one sweep erases (each is a few writes per domain)


def erase(user: dict[str, Any], now: datetime) -> bool:
    """Erase one account (see the module's docstring); False when a restore won the race."""
    user_id = user["_id"]
    if user.get("status") != users.ERASING and not users.start_erase(user_id, now):  # erasing: resumed
        return False
    media.erase_owner(user_id)
    appointments.erase_user(user_id)
    pharmacy.erase_customer(user_id)
    signaling.erase_user(user_id)
    emergency.erase_user(user_id, user.get("contact"))
    audit.erase_actor(user_id)
    return users.tombstone(user, now)


def end_retention(user: dict[str, Any], now: datetime) -> None:
    """RECORD_RETENTION_YEARS after the erase: the kept prescriptions and audit trail go too."""
    prescriptions.end_retention(user["_id"])
    audit.end_retention(user["_id"])
    users.retention_ended(user["_id"], now)


def sweep(now: datetime) -> dict[str, int]:
    """Erases due (and erases a crash left unfinished), then retentions that ended."""
    erased = 0
    for status in (users.ERASING, users.DELETION_REQUESTED):
        for user in users.due_erasures(status, now, BATCH):
            erased += erase(user, now)
    retention = timedelta(days=365 * get_settings().record_retention_years)
    ended = 0
    for user in users.due_erasures(users.ERASED, now - retention, BATCH):
        end_retention(user, now)
        ended += 1
    if erased or ended:
        logger.info("Accounts erased", extra={"erased": erased, "retentionEnded": ended})
    return {"accountsErased": erased, "retentionsEnded": ended}
