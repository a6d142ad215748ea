"""Business metrics: the one catalogue of what the platform counts, written as CloudWatch
embedded-metric-format lines by Powertools (`core.observability.metrics`, one namespace, the
`service` dimension only), flushed at the end of each invocation.

Who did something is part of the metric's name (`AppointmentCancelledByDoctor`), not a
dimension, so the dashboard and the alarms in infra/merge-template.json read plain metrics and
the number of series stays small. The one exception is `RateLimitRefused`, whose `limit`
dimension names the limit (a handful of values).
"""

from __future__ import annotations

from enum import StrEnum


class Metric(StrEnum):
    APPOINTMENT_BOOKED = "AppointmentBooked"
    APPOINTMENT_CANCELLED_BY_PATIENT = "AppointmentCancelledByPatient"
    APPOINTMENT_CANCELLED_BY_DOCTOR = "AppointmentCancelledByDoctor"
    APPOINTMENT_CANCELLED_BY_SYSTEM = "AppointmentCancelledBySystem"  # unpaid holds, the sweep
    APPOINTMENT_NO_SHOW = "AppointmentNoShow"
    ORDER_PLACED = "OrderPlaced"
    ORDER_CANCELLED = "OrderCancelled"
    PAYMENT_SUCCEEDED = "PaymentSucceeded"
    PAYMENT_FAILED = "PaymentFailed"
    PAYMENT_REFUNDED = "PaymentRefunded"
    PAYMENT_WEBHOOK_FAILED = "PaymentWebhookFailed"
    NOTIFICATION_SENT = "NotificationSent"
    NOTIFICATION_DROPPED_BY_CAP = "NotificationDroppedByCap"
    NOTIFICATION_FAILED = "NotificationFailed"
    NOTIFICATION_HELD = "NotificationHeld"  # over its cap: waits for the recipient's hourly digest
    OUTBOX_RECORD_FAILED = "OutboxRecordFailed"  # effects a request could not record (lost)
    OUTBOX_FAILED = "OutboxFailed"  # an effect's handler given up after its attempts
    RATE_LIMIT_REFUSED = "RateLimitRefused"
    EMERGENCY_RAISED = "EmergencyRaised"
    EMERGENCY_ACCEPTED = "EmergencyAccepted"
    EMERGENCY_UNANSWERED = "EmergencyUnanswered"
    REPAIR_SWEEP_FIXED = "RepairSweepFixed"
    WEBSOCKET_CONNECTED = "WebSocketConnected"
    WEBSOCKET_FRAME_REFUSED = "WebSocketFrameRefused"


def count(metric: Metric, value: int = 1) -> None:
    """Count `value` occurrences of `metric` in this invocation (nothing when `value` is 0)."""
    if value <= 0:
        return
    from aws_lambda_powertools.metrics import MetricUnit

    from functions.core.observability import metrics

    metrics.add_metric(name=metric.value, unit=MetricUnit.Count, value=value)


def count_refusal(limit: str) -> None:
    """A rate limit refused a request: `RateLimitRefused` with the limit's name as dimension
    (its own EMF line, so the dimension does not spread to the invocation's other metrics)."""
    from aws_lambda_powertools.metrics import MetricUnit, single_metric

    from functions.core.observability import metrics

    with single_metric(name=Metric.RATE_LIMIT_REFUSED.value, unit=MetricUnit.Count, value=1,
                       namespace=metrics.namespace,
                       default_dimensions={**metrics.default_dimensions, "limit": limit}) as metric:
        metric.add_dimension(name="service", value=metrics.service or "cureconnect")
