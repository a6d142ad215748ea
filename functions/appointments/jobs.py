"""The appointments' periodic and scheduled work: the `send_reminder` Lambda (target of the
one-off EventBridge Scheduler schedules armed by `reminders`) and `sweep`, the safety net the
platform's sweeper calls every 5 minutes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from functions.appointments import claims, repair
from functions.appointments.grid import aware
from functions.appointments.messages import notification_text, recipient_of
from functions.appointments.status import ACTIVE
from functions.appointments.stores import appointments as store
from functions.core import clock, metrics, notify, users
from functions.core.config import get_settings
from functions.core.db import maybe_object_id
from functions.core.metrics import Metric

REMINDER_EARLY_TOLERANCE = timedelta(minutes=1)  # the Scheduler may fire a little early
SWEEP_GRACE = timedelta(minutes=2)  # the sweeper lets the Scheduler go first
CLAIM_PURGE_DAYS = (2, 3)  # claims of these many days ago are dropped (a missed day is harmless)


def send_reminder(event: Mapping[str, Any]) -> dict[str, Any]:
    """The `send_reminder` Lambda: `{appointmentId, offset}` from the Scheduler (or the sweeper).
    Sends only while the appointment is pending/confirmed and that reminder is due, and at most
    once per offset and start: the sent mark is set by a conditional update before sending."""

    oid = maybe_object_id(event.get("appointmentId"))
    try:
        offset = int(event.get("offset"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        offset = -1
    if oid is None or offset <= 0:
        return {"sent": False, "reason": "invalid input"}
    now = clock.now()
    longer = [o for o in get_settings().reminder_offsets_minutes if o > offset]
    appt = store.claim_reminder(oid, offset, now, ACTIVE, REMINDER_EARLY_TOLERANCE, longer)
    if appt is None:
        return {"sent": False, "reason": "not due, already sent, or no longer active"}
    people = users.users_by_id([appt["patient"], appt["doctor"]])
    parties = appt.get("parties") or {}
    base_url = get_settings().app_base_url
    delivered = 0
    for who in ("patient", "doctor"):
        recipient = recipient_of(people.get(appt[who]) or parties.get(who), appt[who])
        if recipient is None:
            continue
        subject, text = notification_text("reminder", aware(appt["start"]), recipient.timezone, base_url)
        delivered += notify.send(recipient.contact_type, recipient.contact, subject, text, kind="reminder",
                                 ref=appt["_id"])
    return {"sent": True, "delivered": delivered}


def sweep(now: datetime | None = None) -> dict[str, int]:
    """Safety net every 5 minutes: reminders that are due (by more than a short grace, so the
    Scheduler goes first) but unsent; claims and seats no live appointment accounts for
    (`repair`); and the claims of past days, which can never clash again.
    (Failed notifications are retried by `core.notify`'s own sweep.)"""

    now = now or clock.now()
    offsets = get_settings().reminder_offsets_minutes
    horizon = now + timedelta(minutes=max(offsets, default=0)) + REMINDER_EARLY_TOLERANCE
    sent = 0
    for appt in store.upcoming_active(now, horizon, ACTIVE):
        start = aware(appt["start"])
        done = appt.get("remindersSent") or {}
        due = [o for o in appt.get("reminderOffsets", [])
               if str(o) not in done and start - timedelta(minutes=o) <= now - SWEEP_GRACE]
        if due:  # only the nearest one: it supersedes longer reminders that were missed
            sent += bool(send_reminder({"appointmentId": str(appt["_id"]), "offset": min(due)}).get("sent"))
    purged = sum(claims.purge_claims_of_day(f"{(now - timedelta(days=d)).date():%Y-%m-%d}") for d in CLAIM_PURGE_DAYS)
    repaired = repair.sweep(now)
    metrics.count(Metric.REPAIR_SWEEP_FIXED, sum(repaired.values()))
    return {"reminders": sent, **repaired, "claimsPurged": purged}
