"""Composition root: every blueprint (from `functions.registry`), the WebSocket handlers and the
schedules."""

import os
from typing import Any

from chalice.app import CloudWatchEvent, Rate, SQSEvent, WebsocketEvent

from functions.appointments import jobs as appointment_jobs
from functions.core import outbox
from functions.core.app_factory import create_app
from functions.registry import BLUEPRINTS, plug_ports, sweep
from functions.signaling import connections as signaling_connections
from functions.signaling import emergencies as signaling_emergencies
from functions.signaling import frames as signaling_frames

plug_ports()  # a cancelled appointment's or order's refund (see functions.core.ports)
app = create_app("cureconnect", list(BLUEPRINTS))


# ---------------------------------------------------------------- appointment reminders (EventBridge)


@app.lambda_function(name="send_reminder")
def send_reminder(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Target of the one-off EventBridge Scheduler schedules: `{appointmentId, offset}`."""
    return appointment_jobs.send_reminder(event)


@app.schedule(Rate(5, unit=Rate.MINUTES), name="reminder_sweep")
def reminder_sweep(event: CloudWatchEvent) -> dict[str, int]:
    """Safety net: due-but-unsent reminders and failed notifications; refunds to retry."""
    return sweep()


# ---------------------------------------------------------------- the outbox's worker (SQS)

# The queue is the stack's own (infra/merge-template.json `OutboxQueue`; infra/split_routes.py points
# the event source at it); a message is a kick (the worker leases what is due from the database) or
# carries a deferred effect itself (`core.outbox.defer`: the login's settlement).
# `chalice deploy --stage dev` has no template to fill the name in: the stage names an existing queue
# (OUTBOX_QUEUE_NAME in .chalice/config.json, applied while chalice loads this module).
OUTBOX_QUEUE = os.environ.get("OUTBOX_QUEUE_NAME") or "${AWS::StackName}-outbox"


@app.on_sqs_message(queue=OUTBOX_QUEUE, batch_size=10, maximum_batching_window_in_seconds=0, name="outbox_worker")
def outbox_worker(event: SQSEvent) -> dict[str, int]:
    """Run the effects the messages carry (`core.outbox.defer`), then deliver what is due until
    nothing is: kicks that arrive together share one run. An error fails the batch, so SQS
    redelivers it (then its dead-letter queue)."""
    return outbox.work_queue([(str(record.to_dict().get("messageId", "")), record.body) for record in event])


# ---------------------------------------------------------------- WebSocket API (signaling, chat, emergencies)

app.experimental_feature_flags.update(["WEBSOCKETS"])


@app.on_ws_connect(name="ws_connect")
def ws_connect(event: WebsocketEvent) -> dict[str, Any]:
    return signaling_connections.on_connect(event.to_dict())


@app.on_ws_message(name="ws_message")
def ws_message(event: WebsocketEvent) -> dict[str, Any]:
    return signaling_frames.on_message(event.to_dict())


@app.on_ws_disconnect(name="ws_disconnect")
def ws_disconnect(event: WebsocketEvent) -> dict[str, Any]:
    return signaling_connections.on_disconnect(event.to_dict())


@app.lambda_function(name="emergency_timeout")
def emergency_timeout(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Target of the one-off schedule armed when an emergency starts: `{sessionId}`."""
    return signaling_emergencies.emergency_timeout(event)
