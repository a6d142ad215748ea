"""Password checks counted before they happen (the login lockout): per contact and source IP,
and per contact from everywhere, in one window (`core.throttle`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from functions.core import outbox, throttle
from functions.core.config import get_settings
from functions.core.errors import Code, RateLimited
from functions.core.observability import logger
from functions.core.throttle import Limit


def login_window() -> timedelta:
    return timedelta(minutes=get_settings().login_window_minutes)


def login_limits() -> tuple[Limit, Limit]:
    """Password checks per contact and source IP (LOGIN_MAX_FAILURES), and per contact from
    everywhere (LOGIN_MAX_FAILURES_PER_CONTACT), in one LOGIN_WINDOW_MINUTES window."""
    settings, window, message = get_settings(), login_window(), "Too many failed attempts, try again later"
    return (Limit("login-ip", settings.login_max_failures, window, Code.LOGIN_LOCKED, message),
            Limit("login", settings.login_max_failures_per_contact, window, Code.LOGIN_LOCKED, message))


@dataclass(frozen=True)
class Attempt:
    """A claimed password check: counted per contact and source IP, and per contact overall."""

    contact_key: str
    source_ip: str
    token: str = ""  # what the takes are marked with (`core.throttle.take_all`)

    def claims(self) -> list[tuple[Limit, str]]:
        here, anywhere = login_limits()
        return [(here, f"{self.source_ip}|{self.contact_key}"), (anywhere, self.contact_key)]

    def succeeded(self) -> None:
        """The failures from this address are forgotten; the attempt no longer counts for the
        contact. Off the request path and without a round trip (`core.outbox.defer`): the worker
        settles (`core.throttle.settle_deferred`, idempotent by the take's token)."""
        here, anywhere = self.claims()
        outbox.defer(outbox.Effect(throttle.SETTLE, throttle.settlement(reset=[here], give_back=[anywhere],
                                                                        token=self.token)))

    def lifted(self) -> None:
        """The owner proved control of the contact (account recovery): both windows end."""
        for limit, key in self.claims():
            throttle.clear(limit, key)


def claim_attempt(contact_key: str, source_ip: str, now: datetime) -> Attempt:
    """Count this password check before it happens (one round trip for both windows), or 429. Per
    contact and IP, so a burst of guesses gets exactly LOGIN_MAX_FAILURES checks; per contact
    from everywhere, so a stranger with five requests cannot lock the owner out from everywhere
    (and the owner can always recover the account). A refused attempt counts nowhere."""
    claims = Attempt(contact_key, source_ip).claims()
    try:
        token = throttle.take_all(claims, now)
    except RateLimited:
        logger.info("Login refused: too many failures")
        raise
    return Attempt(contact_key, source_ip, token)
