"""Side effects after a committed write: reminder schedules and notices.

A use case returns an `Outcome`; the `@commits` decorator runs its effects and hands the route
only the API view, so no route can forget (or repeat) them. Nothing here can fail the request:
the Scheduler adapter and the notifier log and record their failures, and the sweeper retries.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ParamSpec

from functions.appointments import reminders
from functions.appointments.grid import aware
from functions.appointments.messages import Recipient, notification_text
from functions.appointments.views import appointment_to_api
from functions.core import notify
from functions.core.config import get_settings
from functions.core.observability import logger

P = ParamSpec("P")


class Reminders(enum.Enum):
    """What the reminder schedules of the appointment need after the write."""

    KEEP = "keep"
    ARM = "arm"  # a new booking
    REARM = "rearm"  # moved: replace them
    DISARM = "disarm"  # cancelled: delete them


@dataclass
class Outcome:
    appointment: dict[str, Any]
    notices: list[tuple[str, Recipient | None]] = field(default_factory=list)
    reminders: Reminders = Reminders.KEEP
    previous_start: datetime | None = None


def run(outcome: Outcome) -> None:
    appt, settings = outcome.appointment, get_settings()
    planned = list(appt.get("reminderOffsets", []))
    start = aware(appt["start"])
    if outcome.reminders is Reminders.ARM:
        reminders.arm(appt["_id"], start, planned)
    elif outcome.reminders is Reminders.REARM:
        reminders.disarm(appt["_id"], set(settings.reminder_offsets_minutes) - set(planned))
        reminders.arm(appt["_id"], start, planned)
    elif outcome.reminders is Reminders.DISARM:
        reminders.disarm(appt["_id"], {*settings.reminder_offsets_minutes, *planned})
    for kind, recipient in outcome.notices:
        if recipient is None:
            continue
        subject, text = notification_text(kind, start, recipient.timezone, settings.app_base_url,
                                          outcome.previous_start)
        other = appt["patient"] if recipient.user_id == appt["doctor"] else appt["doctor"]  # spends the budget
        notify.send(recipient.contact_type, recipient.contact, subject, text, kind=kind, ref=appt["_id"], sender=other)


def commits(use_case: Callable[P, Outcome]) -> Callable[P, dict[str, Any]]:
    """Run the effects of the use case's outcome after its write, and return the API view."""

    @functools.wraps(use_case)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> dict[str, Any]:
        outcome = use_case(*args, **kwargs)
        try:
            run(outcome)
        except Exception as exc:  # after the write: never a failed request (the sweeps retry reminders)
            logger.warning("Effects after a committed write failed", extra={"error": type(exc).__name__})
        return appointment_to_api(outcome.appointment)

    return wrapper
