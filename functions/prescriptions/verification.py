"""The public check of a printed prescription's verification code, limited per client address."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from functions.core import clock, throttle
from functions.core.config import get_settings
from functions.core.errors import NotFound
from functions.core.throttle import Limit
from functions.prescriptions import numbers, views
from functions.prescriptions.reading import people_of
from functions.prescriptions.stores import prescriptions as store


def _count_verify_hit(client_ip: str, now: datetime) -> None:
    """VERIFY_PER_MINUTE checks a minute per client address (`core.throttle`)."""
    throttle.take(Limit("rx-verify", get_settings().verify_per_minute, timedelta(minutes=1),
                        message="Too many verification requests, try again shortly"), client_ip, now)


def verify(code_text: str, client_ip: str) -> dict[str, Any]:
    """Public: is this printed prescription genuine and still valid? Rate-limited per client
    IP; an unknown or malformed code is a 404 with `valid: false`."""
    now = clock.now()
    _count_verify_hit(client_ip or "unknown", now)
    code = numbers.normalize_code(code_text)
    rx = store.by_code(code) if code else None
    if rx is None:
        raise NotFound("No prescription has this verification code", extra={"valid": False})
    people = people_of(rx)
    return views.verify_view(rx, people.get(rx["doctor"]), people.get(rx["patient"]), now)
