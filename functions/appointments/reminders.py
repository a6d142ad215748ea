"""Appointment reminders as one-off EventBridge Scheduler schedules (one per appointment and
offset), targeting the `send_reminder` Lambda with `{appointmentId, offset}`.

A schedule's name is derived from the appointment id and the offset, so rescheduling replaces
and cancelling deletes exactly the right ones. Failures are logged, never raised: the
`reminder_sweep` Lambda sends any reminder that is due and unsent, so a missing schedule only
makes a reminder up to five minutes late (see `core.schedules`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from functions.core import schedules
from functions.core.config import get_settings


def schedule_name(appointment_id: Any, offset: int) -> str:
    return f"appt-{appointment_id}-{offset}m"


def arm(appointment_id: Any, start: datetime, offsets: Iterable[int]) -> int:
    """Create (or replace) the schedules of `offsets`; returns how many were written."""
    target = get_settings().reminder_function_arn
    return sum(schedules.put_at(schedule_name(appointment_id, offset), start - timedelta(minutes=offset), target,
                                {"appointmentId": str(appointment_id), "offset": offset}, max_age_seconds=3600)
               for offset in offsets)


def disarm(appointment_id: Any, offsets: Iterable[int]) -> int:
    """Delete the schedules of `offsets`; one that is already gone is fine. Returns deletions."""
    target = get_settings().reminder_function_arn
    return sum(schedules.delete(schedule_name(appointment_id, offset), target) for offset in sorted(set(offsets)))
