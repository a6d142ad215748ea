"""Side effects after a committed write: reminder schedules, notices, and the claims or seats
an ended appointment no longer needs.

A use case returns an `Outcome`; the `@commits` decorator records its effects in the outbox
(`core.outbox`: one Effect of kind `appointments.changed`, one round trip) and hands the route
only the API view, so no route can forget (or repeat) them. The outbox's worker runs `deliver`:
the reminder schedules (EventBridge Scheduler), the release of claims or seats, and the notices it
returns as messages. Nothing here can fail the request: a record that fails is logged and
counted, and the sweeps (reminders, the repair of claims) catch up with what it would have done.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ParamSpec

from functions.appointments import claims, reminders, waitlist_offers
from functions.appointments.grid import aware
from functions.appointments.messages import Recipient, notification_text
from functions.appointments.views import appointment_to_api
from functions.core import outbox
from functions.core.config import get_settings
from functions.core.observability import logger

P = ParamSpec("P")
KIND = "appointments.changed"  # the outbox kind of `deliver`


class Reminders(enum.Enum):
    """What the reminder schedules of the appointment need after the write."""

    KEEP = "keep"
    ARM = "arm"  # a new booking
    REARM = "rearm"  # moved: replace them
    DISARM = "disarm"  # cancelled: delete them


class Release(enum.Enum):
    """What of the appointment's claims it no longer needs after the write (`claims`)."""

    NOTHING = "nothing"
    CLAIMS = "claims"  # cancelled: its cells and seats
    SEATS = "seats"  # completed or no-show: its seats (the limits count active appointments)


@dataclass
class Outcome:
    appointment: dict[str, Any]
    notices: list[tuple[str, Recipient | None]] = field(default_factory=list)
    reminders: Reminders = Reminders.KEEP
    previous_start: datetime | None = None
    release: Release = Release.NOTHING


def effect(outcome: Outcome) -> outbox.Effect | None:
    """The outbox entry of the outcome (None when there is nothing to do). The recipients are
    resolved here, from what the request has (the caller's current contact, the appointment's
    snapshot of the other party), so the worker reads nothing to tell them."""
    appt = outcome.appointment
    notices = [{"kind": kind, "contact": r.contact, "contactType": r.contact_type, "timezone": r.timezone,
                "sender": appt["patient"] if r.user_id == appt["doctor"] else appt["doctor"]}  # spends the budget
               for kind, r in outcome.notices if r is not None]
    if not notices and outcome.reminders is Reminders.KEEP and outcome.release is Release.NOTHING:
        return None
    return outbox.Effect(KIND, {
        "appointment": appt["_id"], "start": aware(appt["start"]), "offsets": list(appt.get("reminderOffsets", [])),
        "reminders": outcome.reminders.value, "release": outcome.release.value,
        "previousStart": outcome.previous_start, "notices": notices}, ref=appt["_id"])


def run(outcome: Outcome) -> None:
    """Record the outcome's effects (one round trip; never raises)."""
    entry = effect(outcome)
    if entry is not None:
        outbox.record(entry)


def deliver(payload: Mapping[str, Any]) -> Sequence[outbox.Effect]:
    """The outbox's handler of `appointments.changed`: each step idempotent (a schedule put by
    its name, a deletion of what may be gone already, a release by the appointment id), so a
    re-run after a kill does no harm; returns the notices as messages for the worker to send."""
    settings, oid = get_settings(), payload["appointment"]
    start, planned = aware(payload["start"]), list(payload.get("offsets") or [])
    action = Reminders(payload.get("reminders", Reminders.KEEP.value))
    if action is Reminders.ARM:
        reminders.arm(oid, start, planned)
    elif action is Reminders.REARM:
        reminders.disarm(oid, set(settings.reminder_offsets_minutes) - set(planned))
        reminders.arm(oid, start, planned)
    elif action is Reminders.DISARM:
        reminders.disarm(oid, {*settings.reminder_offsets_minutes, *planned})
    release = Release(payload.get("release", Release.NOTHING.value))
    if release is Release.CLAIMS:
        claims.release_claims(oid)  # seats too
    elif release is Release.SEATS:
        claims.release_seats(oid)
    previous = payload.get("previousStart")
    messages = []
    if release is Release.CLAIMS:  # a freed slot: offered to the first in line (`waitlist_offers`)
        messages += waitlist_offers.offer_freed(oid)
    elif action is Reminders.REARM and previous:  # the slot a move left
        messages += waitlist_offers.offer_moved_from(oid, aware(previous))
    for notice in payload.get("notices") or []:
        subject, text = notification_text(notice["kind"], start, notice["timezone"], settings.app_base_url,
                                          aware(previous) if previous else None)
        messages.append(outbox.message(notice["contactType"], notice["contact"], subject, text, kind=notice["kind"],
                                       ref=oid, sender=notice.get("sender")))
    return messages


def commits(use_case: Callable[P, Outcome]) -> Callable[P, dict[str, Any]]:
    """Record the effects of the use case's outcome after its write, and return the API view."""

    @functools.wraps(use_case)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> dict[str, Any]:
        outcome = use_case(*args, **kwargs)
        try:
            run(outcome)
        except Exception as exc:  # after the write: never a failed request (the sweeps catch up)
            logger.warning("Effects after a committed write failed", extra={"error": type(exc).__name__})
        return appointment_to_api(outcome.appointment)

    return wrapper
