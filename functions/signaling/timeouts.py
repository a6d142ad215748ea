"""Emergency timeouts as one-off EventBridge Scheduler schedules (like the appointment
reminders): at the session's deadline the `emergency_timeout` Lambda gets `{sessionId}`.

Failures are logged, never raised: the sweeper marks overdue sessions unanswered too, so a
missing schedule only makes the patient's notice up to one sweep late (see `core.schedules`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from functions.core import schedules
from functions.core.config import get_settings


def reset() -> None:
    schedules.reset()


def schedule_name(session_id: Any) -> str:
    return f"emergency-{session_id}"


def arm(session_id: Any, deadline: datetime) -> bool:
    return schedules.put_at(schedule_name(session_id), deadline, get_settings().emergency_function_arn,
                            {"sessionId": str(session_id)}, max_age_seconds=600)


def disarm(session_id: Any) -> bool:
    return schedules.delete(schedule_name(session_id), get_settings().emergency_function_arn)
