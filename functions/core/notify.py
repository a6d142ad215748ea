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

import functools
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING, IndexModel, ReturnDocument

from functions.core import clock, metrics, throttle, users
from functions.core.config import get_settings
from functions.core.db import get_db
from functions.core.metrics import Metric
from functions.core.observability import logger
from functions.core.throttle import Limit

COLLECTION = "notifications"
# One-time codes: the way a contact gets verified (a claim code proves a contact that an
# unverified account holds, `auth.claims`).
CODE_KINDS = frozenset({"verification", "recovery", "claim"})
# The address a released contact is replaced with (`users.PLACEHOLDER_DOMAIN`, a reserved TLD):
# nothing is ever sent to it.
PLACEHOLDER_SUFFIX = "@contact.invalid"
# SMS to the number that is calling the emergency line at this moment (Twilio connected that very
# number, which proves it as well as a code would): sent even if its account never verified it.
CALLER_KINDS = frozenset({"ivr-confirmation", "ivr-hospitals"})
# Messages about the recipient's own business that nobody else can cause in bulk: reminders of
# their own appointments. They have a daily budget of their own, apart from notices others cause.
OWN_KINDS = frozenset({"reminder"})
MAX_ATTEMPTS = 6
RETRY_BATCH = 50
SENDING_LEASE = timedelta(minutes=10)  # a sweeper that died mid-send releases the message after this

INDEXES = {
    COLLECTION: [IndexModel([("status", ASCENDING), ("nextAttemptAt", ASCENDING)], name="due")],
}

# Factory of the Twilio transport (None = the SDK's own HTTP client).
twilio_http_client: Callable[[], Any] | None = None


class NotDelivered(Exception):
    """A message could not be handed to its provider."""


class Undeliverable(NotDelivered):
    """A message that must never go out (an SMS to a number `sms_refusal` refuses): not retried."""


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
    if why := sms_refusal(to):  # also guards messages queued before the rule (or its setting) changed
        raise Undeliverable(why)
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


@functools.cache
def _ses() -> Any:
    import boto3

    return boto3.client("ses")


def _send_email(to: str, subject: str, body: str) -> None:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        _ses().send_email(
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


def sms_refusal(number: str) -> str | None:
    """Why no SMS may go to `number`, or None: SMS cost money per message and premium or foreign
    destinations are what SMS pumping earns from, so only mobile (or fixed-line-or-mobile) numbers
    of SMS_ALLOWED_REGIONS get one. The region decides, not the type: `phonenumbers` types a
    satellite number (+881, region "001") as mobile."""
    import phonenumbers

    try:
        parsed = phonenumbers.parse(number, get_settings().default_phone_region)
    except phonenumbers.NumberParseException:
        return "not a phone number"
    allowed = {r.upper() for r in get_settings().sms_allowed_regions}
    if not phonenumbers.is_valid_number(parsed) or phonenumbers.region_code_for_number(parsed) not in allowed:
        return "outside SMS_ALLOWED_REGIONS"
    if phonenumbers.number_type(parsed) not in (phonenumbers.PhoneNumberType.MOBILE,
                                                phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE):
        return "not a mobile number"
    return None


def _verified(to: str) -> bool | None:
    """Whether the account with this contact verified it; None when no account has it."""
    return users.contact_verified(to)


def _daily_budget(to: str, kind: str, sender: Any) -> tuple[str, str] | None:
    """The daily budget (limit name, key) this message spends, or None: spent by the party that
    causes it, never one a stranger can fill for the recipient (issue 21, item 1). One-time codes
    the owner asked for: none here (their own limits in `auth.recovery` and `auth.sms_codes`
    bound them per contact, number and address); reminders: the recipient's own budget; a notice
    caused by another user (`sender`): that sender's budget towards this recipient; anything
    else (the system's own messages): the recipient's."""
    if kind in CODE_KINDS:
        return None
    if kind in OWN_KINDS:
        return "messages-own", to
    if sender is not None:
        return "messages", f"{sender}>{to}"
    return "messages", to


def _refusal(channel: str, to: str, kind: str, sender: Any = None) -> str | None:
    """Why this message must not go out, or None. SMS cost money and are what SMS pumping
    abuses: they go only to mobile numbers of SMS_ALLOWED_REGIONS (`sms_refusal`), and only to
    verified numbers (one-time codes excepted, which is how a number gets verified). E-mails to
    an unverified address: a few a day, so users of the existing frontend (no verification
    screen) still get their notices. At most MAX_MESSAGES_PER_RECIPIENT_PER_DAY a day per budget
    (`_daily_budget`; `core.throttle`, a day from the first message)."""
    settings = get_settings()
    if to.endswith(PLACEHOLDER_SUFFIX):
        return "placeholder contact"
    if channel == "phone" and (why := sms_refusal(to)):
        return why
    verified = _verified(to)
    if channel == "phone" and verified is False and kind not in CODE_KINDS | CALLER_KINDS:
        return "unverified number"
    budget = _daily_budget(to, kind, sender)
    if budget is None:
        return None
    name, key = budget
    daily = Limit(name, settings.max_messages_per_recipient_per_day, timedelta(days=1))
    sent_today = throttle.take_counted(daily, key, clock.now())
    if sent_today is None:
        return "daily cap"
    if channel == "email" and verified is False and sent_today > settings.max_unverified_emails_per_day:
        return "daily cap for an unverified address"
    return None


def send(channel: str, to: str, subject: str, body: str, *, kind: str, ref: Any = None,
         sender: Any = None) -> bool:
    """Deliver now; on failure keep it in the outbox for the sweeper. Never raises. A message
    the caps refuse is dropped with a log line (never the address or the text), not queued.
    `sender`: the user whose action causes this notice (its daily cap is per sender and
    recipient, so no one can use up what others may send this recipient); None for the
    recipient's own codes and reminders, and the system's own messages."""
    try:
        refused = _refusal(channel, to, kind, sender)
    except Exception as exc:  # the caps' bookkeeping failing must not fail the request either
        logger.warning("notification caps unavailable", extra={"kind": kind, "error": type(exc).__name__})
        refused = None
    if refused:
        logger.info("notification dropped", extra={"kind": kind, "channel": channel, "ref": str(ref),
                                                   "reason": refused})
        metrics.count(Metric.NOTIFICATION_DROPPED_BY_CAP)
        return False
    try:
        deliver(channel, to, subject, body)
        metrics.count(Metric.NOTIFICATION_SENT)
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
    first, so two sweepers never send the same message. One status per query (an indexed
    equality): queued ones, then those whose sending lease ran out."""
    now = now or clock.now()
    counts = {"retried": 0, "delivered": 0, "gaveUp": 0}
    for status in ("pending", "sending"):
        while counts["retried"] < limit and _retry_one(status, now, counts):
            pass
    return counts


def _retry_one(status: str, now: datetime, counts: dict[str, int]) -> bool:
    """Lease and resend one due message in `status`; False when there is none."""
    coll = get_db()[COLLECTION]
    doc = coll.find_one_and_update(
        {"status": status, "nextAttemptAt": {"$lte": now}},
        {"$set": {"status": "sending", "nextAttemptAt": now + SENDING_LEASE, "updatedAt": now},
         "$inc": {"attempts": 1}},
        return_document=ReturnDocument.AFTER,
    )
    if doc is None:
        return False
    counts["retried"] += 1
    try:
        deliver(doc["channel"], doc["to"], doc["subject"], doc["body"])
    except Exception as exc:
        reason = str(exc) if isinstance(exc, NotDelivered) else type(exc).__name__
        gave_up = doc["attempts"] >= MAX_ATTEMPTS or isinstance(exc, Undeliverable)
        counts["gaveUp"] += gave_up
        metrics.count(Metric.NOTIFICATION_FAILED, int(gave_up))
        coll.update_one({"_id": doc["_id"]}, {"$set": {
            "status": "failed" if gave_up else "pending", "lastError": reason,
            "nextAttemptAt": now + backoff(doc["attempts"]), "updatedAt": now}})
        return True
    counts["delivered"] += 1
    metrics.count(Metric.NOTIFICATION_SENT)
    coll.update_one({"_id": doc["_id"]}, {"$set": {"status": "sent", "sentAt": now, "updatedAt": now}})
    return True


def sweep(now: datetime) -> dict[str, int]:
    """The platform sweeper's part (core.jobs): failed messages whose retry time has come."""
    return retry_due(now)
