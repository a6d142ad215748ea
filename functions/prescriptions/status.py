"""A prescription's statuses: the two it is stored in, and the one a reader sees (an active
prescription past its `validUntil` reads as expired). Pure: no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

ACTIVE, REVOKED, EXPIRED = "active", "revoked", "expired"


def as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def effective_status(rx: Mapping[str, Any], now: datetime) -> str:
    if rx.get("status") == REVOKED:
        return REVOKED
    if as_utc(rx["validUntil"]) <= now:
        return EXPIRED
    return ACTIVE
