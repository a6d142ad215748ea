"""Appointment reminders as one-off EventBridge Scheduler schedules (one per appointment and
offset), targeting the `send_reminder` Lambda with `{appointmentId, offset}`.

A schedule's name is derived from the appointment id and the offset, so rescheduling replaces
and cancelling deletes exactly the right ones. Failures are logged, never raised: the
`reminder_sweep` Lambda sends any reminder that is due and unsent, so a missing schedule only
makes a reminder up to five minutes late. boto3 is imported on first use.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from functions.core.config import get_settings
from functions.core.observability import logger

_client: Any = None


def _scheduler() -> Any:
    global _client
    if _client is None:
        import boto3

        _client = boto3.client("scheduler")
    return _client


def schedule_name(appointment_id: Any, offset: int) -> str:
    return f"appt-{appointment_id}-{offset}m"


def at_expression(start: datetime, offset: int) -> str:
    when = start.astimezone(UTC) - timedelta(minutes=offset)
    return f"at({when:%Y-%m-%dT%H:%M:%S})"


def arm(appointment_id: Any, start: datetime, offsets: Iterable[int]) -> int:
    """Create (or replace) the schedules of `offsets`; returns how many were written."""
    settings = get_settings()
    if not settings.reminder_function_arn or not settings.scheduler_role_arn:
        logger.debug("reminder schedules disabled: REMINDER_FUNCTION_ARN or SCHEDULER_ROLE_ARN unset")
        return 0
    from botocore.exceptions import BotoCoreError, ClientError

    written = 0
    for offset in offsets:
        request = {
            "Name": schedule_name(appointment_id, offset),
            "GroupName": settings.scheduler_group,
            "ScheduleExpression": at_expression(start, offset),
            "ScheduleExpressionTimezone": "UTC",
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "ActionAfterCompletion": "DELETE",
            "Target": {
                "Arn": settings.reminder_function_arn,
                "RoleArn": settings.scheduler_role_arn,
                "Input": json.dumps({"appointmentId": str(appointment_id), "offset": offset}),
                "RetryPolicy": {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 3600},
            },
        }
        try:
            try:
                _scheduler().create_schedule(**request)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "ConflictException":
                    raise
                _scheduler().update_schedule(**request)
            written += 1
        except (ClientError, BotoCoreError) as exc:
            logger.warning("reminder schedule not written", extra={"appointmentId": str(appointment_id),
                                                                   "offset": offset, "error": type(exc).__name__})
    return written


def disarm(appointment_id: Any, offsets: Iterable[int]) -> int:
    """Delete the schedules of `offsets`; one that is already gone is fine. Returns deletions."""
    settings = get_settings()
    if not settings.reminder_function_arn or not settings.scheduler_role_arn:
        return 0
    from botocore.exceptions import BotoCoreError, ClientError

    deleted = 0
    for offset in sorted(set(offsets)):
        try:
            _scheduler().delete_schedule(Name=schedule_name(appointment_id, offset), GroupName=settings.scheduler_group)
            deleted += 1
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                logger.warning("reminder schedule not deleted", extra={"appointmentId": str(appointment_id),
                                                                       "offset": offset, "error": type(exc).__name__})
        except BotoCoreError as exc:
            logger.warning("reminder schedule not deleted", extra={"appointmentId": str(appointment_id),
                                                                   "offset": offset, "error": type(exc).__name__})
    return deleted
