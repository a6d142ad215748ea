"""Emergency timeouts as one-off EventBridge Scheduler schedules (like the appointment
reminders): at the session's deadline the `emergency_timeout` Lambda gets `{sessionId}`.

Failures are logged, never raised: the sweeper marks overdue sessions unanswered too, so a
missing schedule only makes the patient's notice up to one sweep late. boto3 on first use.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
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


def reset() -> None:
    global _client
    _client = None


def schedule_name(session_id: Any) -> str:
    return f"emergency-{session_id}"


def arm(session_id: Any, deadline: datetime) -> bool:
    settings = get_settings()
    if not settings.emergency_function_arn or not settings.scheduler_role_arn:
        logger.debug("emergency timeouts by the sweeper only: EMERGENCY_FUNCTION_ARN or SCHEDULER_ROLE_ARN unset")
        return False
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        _scheduler().create_schedule(
            Name=schedule_name(session_id),
            GroupName=settings.scheduler_group,
            ScheduleExpression=f"at({deadline.astimezone(UTC):%Y-%m-%dT%H:%M:%S})",
            ScheduleExpressionTimezone="UTC",
            FlexibleTimeWindow={"Mode": "OFF"},
            ActionAfterCompletion="DELETE",
            Target={"Arn": settings.emergency_function_arn, "RoleArn": settings.scheduler_role_arn,
                    "Input": json.dumps({"sessionId": str(session_id)}),
                    "RetryPolicy": {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 600}},
        )
    except (ClientError, BotoCoreError) as exc:
        logger.warning("emergency timeout not scheduled", extra={"sessionId": str(session_id),
                                                                 "error": type(exc).__name__})
        return False
    return True


def disarm(session_id: Any) -> bool:
    settings = get_settings()
    if not settings.emergency_function_arn or not settings.scheduler_role_arn:
        return False
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        _scheduler().delete_schedule(Name=schedule_name(session_id), GroupName=settings.scheduler_group)
    except (ClientError, BotoCoreError) as exc:
        logger.debug("emergency timeout not deleted", extra={"sessionId": str(session_id),
                                                             "error": type(exc).__name__})
        return False
    return True
