"""The one notifier: SMS through Twilio or e-mail through Amazon SES, chosen by the recipient's
contact type; the rules of who may get what (`sms_refusal`, `caps`) and the digest's words.

`send(...)` never raises: it records the message in the outbox (`core.outbox`, which owns the
`notifications` collection), whose worker evaluates the caps and delivers it, retrying with
`backoff` (D-29: a provider outage never fails the request that caused the message). Callers
pass bodies without PHI (D-32). The Twilio SDK and boto3 are imported only when a message goes out.

Tests (and local tools) swap the transport, not the SDK: set `twilio_http_client` to a factory
returning a `twilio.http.HttpClient`, and the real `twilio.rest.Client` builds and sends the
request through it.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from functions.core import clock, metrics, throttle, users
from functions.core.config import get_settings
from functions.core.metrics import Metric
from functions.core.observability import logger
from functions.core.throttle import Limit

CODE_KINDS = frozenset({"verification", "recovery"})  # one-time codes: the way a contact gets verified
# SMS to the number that is calling the emergency line at this moment (Twilio connected that very
# number, which proves it as well as a code would): sent even if its account never verified it.
CALLER_KINDS = frozenset({"ivr-confirmation", "ivr-hospitals"})
# Messages about the recipient's own business that nobody else can cause in bulk: reminders of
# their own appointments. They have a daily budget of their own, apart from notices others cause.
OWN_KINDS = frozenset({"reminder"})
MAX_ATTEMPTS = 6
# Refusals that hold a notice for the recipient's hourly digest (`core.outbox`) instead of dropping it.
DAILY_CAP, RECIPIENT_CAP = "daily cap", "daily notices for the recipient"
HOLD_REASONS = frozenset({DAILY_CAP, RECIPIENT_CAP})

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


def deliver(channel: str, to: str, subject: str, body: str, *, kind: str | None = None) -> None:
    """Hand one message to its provider or raise NotDelivered. (`kind`: for local tooling.)"""
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


def _daily_budgets(to: str, kind: str, sender: Any) -> list[tuple[str, str, int, str]]:
    """The daily budgets (limit name, key, size, refusal) this message spends, in order: spent by
    the party that causes it, never one a stranger can fill for the recipient (issue 21, item 1).
    One-time codes the owner asked for: none here (their own limits in `auth.recovery` and
    `auth.sms_codes` bound them per contact, number and address); reminders: the recipient's own
    budget; a notice caused by another user (`sender`): that sender's budget towards this
    recipient, then the recipient's budget for everyone's notices together (so many free
    accounts cannot flood one recipient either); anything else (the system's own messages): the
    recipient's."""
    settings = get_settings()
    per_day = settings.max_messages_per_recipient_per_day
    if kind in CODE_KINDS:
        return []
    if kind in OWN_KINDS:
        return [("messages-own", to, per_day, DAILY_CAP)]
    if sender is not None:
        return [("messages", f"{sender}>{to}", per_day, DAILY_CAP),
                ("notices", to, settings.max_notices_per_recipient_per_day, RECIPIENT_CAP)]
    return [("messages", to, per_day, DAILY_CAP)]


def caps(channel: str, to: str, kind: str, sender: Any = None) -> str | None:
    """Why this message must not go out now, or None; evaluated by the outbox worker when it
    delivers the message, so a request pays nothing for them. SMS cost money and are what SMS
    pumping abuses: they go only to mobile numbers of SMS_ALLOWED_REGIONS (`sms_refusal`), and
    only to verified numbers (one-time codes excepted, which is how a number gets verified).
    E-mails to an unverified address: a few a day, so users of the existing frontend (no
    verification screen) still get their notices. Each daily budget (`_daily_budgets`;
    `core.throttle`, a day from the first message) refuses above its size: `HOLD_REASONS`, which
    the outbox holds for the recipient's hourly digest rather than drop."""
    settings = get_settings()
    if channel == "phone" and (why := sms_refusal(to)):
        return why
    verified = _verified(to)
    if channel == "phone" and verified is False and kind not in CODE_KINDS | CALLER_KINDS:
        return "unverified number"
    first: int | None = None
    for name, key, size, refusal in _daily_budgets(to, kind, sender):
        taken = throttle.take_counted(Limit(name, size, timedelta(days=1)), key, clock.now())
        if taken is None:
            return refusal
        first = taken if first is None else first
    if channel == "email" and verified is False and first is not None and \
            first > settings.max_unverified_emails_per_day:
        return "daily cap for an unverified address"
    return None


# What a digest calls the notices it sums up, by kind: (one, many); the page it points to.
DIGEST_WORDS: dict[str, tuple[str, str]] = {
    "booked": ("new booking", "new bookings"), "booked_confirmed": ("new booking", "new bookings"),
    "requested": ("booking request", "booking requests"), "new_appointment": ("new booking", "new bookings"),
    "cancelled": ("cancellation", "cancellations"), "rescheduled": ("change of time", "changes of time"),
    "confirmed": ("confirmation", "confirmations"), "order_placed": ("new order", "new orders"),
    "order_status": ("order update", "order updates"), "reminder": ("reminder", "reminders"),
}
ORDER_KINDS = frozenset({"order_placed", "order_status"})


def digest_text(kinds: Counter[str]) -> tuple[str, str]:
    """The digest's subject and body for the held notices counted by kind: counts and what
    they are, never who or when (no PHI)."""
    words: Counter[tuple[str, str]] = Counter()
    for kind, n in kinds.items():
        words[DIGEST_WORDS.get(kind, ("notice", "notices"))] += n
    parts = [f"{n} {one if n == 1 else many}" for (one, many), n in words.items()]
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    orders = all(kind in ORDER_KINDS for kind in kinds)
    page, where = ("/orders", "your orders") if orders else ("/appointments", "your appointments")
    link = f"{get_settings().app_base_url.rstrip('/')}{page}"
    return "CureConnect: your notices of the last hour", f"CureConnect: {listed} — open {where}: {link}"


def count_digest(channel: str, to: str) -> None:
    """A digest counts once against the recipient's own daily budget. It goes out even when that
    budget is spent (at most one an hour, and what it sums up was already held back)."""
    throttle.take_counted(Limit("messages", get_settings().max_messages_per_recipient_per_day, timedelta(days=1)),
                          to, clock.now())


def send(channel: str, to: str, subject: str, body: str, *, kind: str, ref: Any = None,
         sender: Any = None) -> bool:
    """Record one message in the outbox (`core.outbox`; one round trip); the worker evaluates its
    caps and delivers it. True when recorded. Never raises. An SMS to a number `sms_refusal`
    refuses (a rule without I/O) is dropped here, never recorded. `sender`: the user whose
    action causes this notice (its daily cap is per sender and recipient, so no one can use up
    what others may send this recipient); None for the recipient's own codes and reminders, and
    the system's own messages."""
    if channel == "phone" and (why := sms_refusal(to)):
        dropped(channel, to, subject, body, kind=kind, ref=ref, reason=why)
        return False
    from functions.core import outbox

    return outbox.store(outbox.message(channel, to, subject, body, kind=kind, ref=ref, sender=sender))


def dropped(channel: str, to: str, subject: str, body: str, *, kind: str, ref: Any, reason: str) -> None:
    """A message the rules refuse: a log line (never the address or the text) and a count. Local
    tooling (local/inbox.py) wraps this to show the drop."""
    logger.info("notification dropped", extra={"kind": kind, "channel": channel, "ref": str(ref), "reason": reason})
    metrics.count(Metric.NOTIFICATION_DROPPED_BY_CAP)
