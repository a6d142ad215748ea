"""One-off EventBridge Scheduler schedules: at a given instant, invoke a Lambda with a JSON
payload, then delete the schedule. Used for appointment reminders and emergency timeouts.

Failures are logged and answered with False, never raised: each caller has a sweeper that does
the same work later, so a missing schedule only makes its work up to one sweep late. boto3 is
imported on first use (a cold start that schedules nothing never pays for it).
"""

from __future__ import annotations

import functools
import json
from datetime import UTC, datetime
from typing import Any

from functions.core.config import get_settings
from functions.core.observability import logger


@functools.cache
def client() -> Any:
    import boto3

    return boto3.client("scheduler")


def reset() -> None:
    """Forget the client (tests that swap the AWS environment)."""
    client.cache_clear()


def at_expression(when: datetime) -> str:
    return f"at({when.astimezone(UTC):%Y-%m-%dT%H:%M:%S})"


def put_at(name: str, when: datetime, target_arn: str, payload: dict[str, Any], *, max_age_seconds: int) -> bool:
    """Create the schedule `name`, or replace it if it exists. False when scheduling is not
    configured (no target or no role) or the Scheduler refused."""
    settings = get_settings()
    if not target_arn or not settings.scheduler_role_arn:
        logger.debug("schedule skipped: no target ARN or SCHEDULER_ROLE_ARN", extra={"schedule": name})
        return False
    from botocore.exceptions import BotoCoreError, ClientError

    request = {
        "Name": name,
        "GroupName": settings.scheduler_group,
        "ScheduleExpression": at_expression(when),
        "ScheduleExpressionTimezone": "UTC",
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "ActionAfterCompletion": "DELETE",
        "Target": {"Arn": target_arn, "RoleArn": settings.scheduler_role_arn, "Input": json.dumps(payload),
                   "RetryPolicy": {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": max_age_seconds}},
    }
    try:
        try:
            client().create_schedule(**request)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConflictException":
                raise
            client().update_schedule(**request)
    except (ClientError, BotoCoreError) as exc:
        logger.warning("schedule not written", extra={"schedule": name, "error": type(exc).__name__})
        return False
    return True


def delete(name: str, target_arn: str) -> bool:
    """Delete the schedule `name`; True if it was there. One already gone (fired, or never
    written) is not an error."""
    settings = get_settings()
    if not target_arn or not settings.scheduler_role_arn:
        return False
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        client().delete_schedule(Name=name, GroupName=settings.scheduler_group)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
            logger.warning("schedule not deleted", extra={"schedule": name, "error": type(exc).__name__})
        return False
    except BotoCoreError as exc:
        logger.warning("schedule not deleted", extra={"schedule": name, "error": type(exc).__name__})
        return False
    return True
