"""The one notifier: SMS through Twilio or e-mail through Amazon SES, chosen by the recipient's
contact type, with an outbox for failures.

`send(...)` never raises. A message that cannot be delivered is written to the
`notifications` collection and retried with backoff by the sweeper (`retry_due`), so a
provider outage never fails the request that caused the message (D-29). Callers pass bodies
without PHI (D-32). The Twilio SDK and boto3 are imported only when a message goes out.

Tests (and local tools) swap the transport, not the SDK: set `twilio_http_client` to a factory
returning a `twilio.http.HttpClient`, and the real `twilio.rest.Client` builds and sends the
request through it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING, IndexModel, ReturnDocument

from functions.core import clock
from functions.core.config import get_settings
from functions.core.db import get_db
from functions.core.observability import logger

COLLECTION = "notifications"
MAX_ATTEMPTS = 6
RETRY_BATCH = 50
SENDING_LEASE = timedelta(minutes=10)  # a sweeper that died mid-send releases the message after this

INDEXES = {COLLECTION: [IndexModel([("status", ASCENDING), ("nextAttemptAt", ASCENDING)], name="due")]}

# Factory of the Twilio transport (None = the SDK's own HTTP client).
twilio_http_client: Callable[[], Any] | None = None

_ses: Any = None


class NotDelivered(Exception):
    """A message could not be handed to its provider."""


def backoff(attempts: int) -> timedelta:
    return timedelta(minutes=5 * 2 ** max(0, attempts - 1))  # 5, 10, 20, 40, 80 min


def to_e164(number: str) -> str:
    if re.fullmatch(r"\+[1-9]\d{7,14}", number):
        return number
    import phonenumbers

    try:
        parsed = phonenumbers.parse(number, get_settings().default_phone_region)
    except phonenumbers.NumberParseException:
        raise NotDelivered("not a phone number") from None
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


def _send_sms(to: str, body: str) -> None:
    settings = get_settings()
    if not (settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_from_number):
        raise NotDelivered("SMS is not configured (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM_NUMBER)")
    from twilio.base.exceptions import TwilioException
    from twilio.rest import Client

    transport = twilio_http_client() if twilio_http_client is not None else None
    client = Client(settings.twilio_account_sid, settings.twilio_auth_token, http_client=transport)
    try:
        client.messages.create(to=to_e164(to), from_=settings.twilio_from_number, body=body)
    except TwilioException as exc:
        raise NotDelivered(type(exc).__name__) from None


def _send_email(to: str, subject: str, body: str) -> None:
    global _ses
    if _ses is None:
        import boto3

        _ses = boto3.client("ses")
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        _ses.send_email(
            Source=get_settings().ses_from_email,
            Destination={"ToAddresses": [to]},
            Message={"Subject": {"Data": subject, "Charset": "UTF-8"},
                     "Body": {"Text": {"Data": body, "Charset": "UTF-8"}}},
        )
    except (ClientError, BotoCoreError) as exc:
        code = exc.response.get("Error", {}).get("Code") if isinstance(exc, ClientError) else None
        raise NotDelivered(str(code or type(exc).__name__)) from None


def deliver(channel: str, to: str, subject: str, body: str) -> None:
    """Hand one message to its provider or raise NotDelivered."""
    if channel == "phone":
        _send_sms(to, body)
    elif channel == "email":
        _send_email(to, subject, body)
    else:
        raise NotDelivered(f"unknown channel {channel!r}")


def send(channel: str, to: str, subject: str, body: str, *, kind: str, ref: Any = None) -> bool:
    """Deliver now; on failure keep it in the outbox for the sweeper. Never raises."""
    try:
        deliver(channel, to, subject, body)
        return True
    except Exception as exc:
        reason = str(exc) if isinstance(exc, NotDelivered) else type(exc).__name__
        logger.warning("notification not delivered; queued for retry",
                       extra={"kind": kind, "channel": channel, "ref": str(ref), "reason": reason})
        _queue(channel, to, subject, body, kind=kind, ref=ref, reason=reason)
        return False


def _queue(channel: str, to: str, subject: str, body: str, *, kind: str, ref: Any, reason: str) -> None:
    now = clock.now()
    try:
        get_db()[COLLECTION].insert_one({
            "kind": kind, "ref": ref, "channel": channel, "to": to, "subject": subject, "body": body,
            "status": "pending", "attempts": 1, "lastError": reason, "nextAttemptAt": now + backoff(1),
            "createdAt": now, "updatedAt": now,
        })
    except Exception as exc:  # the request has succeeded; losing one message must not undo that
        logger.error("notification outbox write failed", extra={"kind": kind, "error": type(exc).__name__})


def retry_due(now: datetime | None = None, limit: int = RETRY_BATCH) -> dict[str, int]:
    """Resend queued messages whose time has come. Each one is leased by a conditional update
    first, so two sweepers never send the same message."""
    now = now or clock.now()
    coll = get_db()[COLLECTION]
    counts = {"retried": 0, "delivered": 0, "gaveUp": 0}
    for _ in range(limit):
        doc = coll.find_one_and_update(
            {"status": {"$in": ["pending", "sending"]}, "nextAttemptAt": {"$lte": now}},
            {"$set": {"status": "sending", "nextAttemptAt": now + SENDING_LEASE, "updatedAt": now},
             "$inc": {"attempts": 1}},
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:
            break
        counts["retried"] += 1
        try:
            deliver(doc["channel"], doc["to"], doc["subject"], doc["body"])
        except Exception as exc:
            reason = str(exc) if isinstance(exc, NotDelivered) else type(exc).__name__
            gave_up = doc["attempts"] >= MAX_ATTEMPTS
            counts["gaveUp"] += gave_up
            coll.update_one({"_id": doc["_id"]}, {"$set": {
                "status": "failed" if gave_up else "pending", "lastError": reason,
                "nextAttemptAt": now + backoff(doc["attempts"]), "updatedAt": now}})
            continue
        counts["delivered"] += 1
        coll.update_one({"_id": doc["_id"]}, {"$set": {"status": "sent", "sentAt": now, "updatedAt": now}})
    return counts
