"""One-time codes by SMS (verification codes, recovery codes, the sign-up link): which numbers
may get one, and the budgets a code SMS spends (issue 21, SMS pumping: every code SMS costs us
money, so its budget is spent by the party asking for it, never by the number's owner alone).

A number outside SMS_ALLOWED_REGIONS, or not a mobile one, is refused where a user types it
(400 INVALID_CONTACT) and never texted (`core.notify.sms_refusal` is the one rule). Each code SMS
takes, all or nothing (`core.throttle.take_all`): one of the number's budget, one of the client
address's and one of the platform's (SMS_CODES_PER_HOUR); the per-account budgets are the
callers' (`recovery`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from functions.core import notify, throttle
from functions.core.config import get_settings
from functions.core.errors import BadRequest, Code, RateLimited
from functions.core.observability import logger
from functions.core.throttle import Limit

PER_NUMBER_HOUR = 5  # code SMS to one number, whoever asks (its owner asks 3 an hour at most)
PER_ADDRESS_HOUR = 10  # code SMS asked for from one client address (sign-ups, codes, recovery)
_MESSAGE = "Too many text messages asked for; try again later"


def refuse_untextable(contact: str, contact_type: str, field: str = "contact") -> None:
    """400 INVALID_CONTACT for a phone number no SMS may go to (a user typed it: say why)."""
    if contact_type != "phone":
        return
    why = notify.sms_refusal(contact)
    if why:
        regions = ", ".join(get_settings().sms_allowed_regions) or "none"
        message = f"we can only text mobile numbers of these regions: {regions}"
        raise BadRequest(f"{field}: {message}", code=Code.INVALID_CONTACT,
                         errors=[{"field": field, "message": message}])


def claims(number: str, source_ip: str) -> list[tuple[Limit, str]]:
    """The budgets one code SMS to `number` asked for from `source_ip` spends."""
    hour = timedelta(hours=1)
    return [(Limit("sms-code-number", PER_NUMBER_HOUR, hour, Code.TOO_MANY_CODES, _MESSAGE), number),
            (Limit("sms-code-ip", PER_ADDRESS_HOUR, hour, Code.TOO_MANY_CODES, _MESSAGE), source_ip),
            (Limit("sms-code-all", get_settings().sms_codes_per_hour, hour, Code.TOO_MANY_CODES, _MESSAGE), "all")]


def take(number: str, source_ip: str, now: datetime) -> None:
    """Spend one code SMS, or 429 TOO_MANY_CODES (the refusal logged, without the number)."""
    try:
        throttle.take_all(claims(number, source_ip), now)
    except RateLimited:
        logger.info("code SMS refused: over a limit", extra={"limits": "sms-code-number|ip|all"})
        raise


def try_take(number: str, source_ip: str, now: datetime) -> bool:
    """`take` for callers that must answer the same either way (recovery, sign-up): False when refused."""
    try:
        take(number, source_ip, now)
    except RateLimited:
        return False
    return True
