"""The one source of "now". Tests replace it with `set_now` / `FrozenClock`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

_now_fn: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731


def now() -> datetime:
    """Current instant, timezone-aware UTC, truncated to milliseconds (BSON precision)."""
    value = _now_fn()
    return value.replace(microsecond=(value.microsecond // 1000) * 1000)


def set_now(fn: Callable[[], datetime] | None) -> None:
    global _now_fn
    _now_fn = fn or (lambda: datetime.now(UTC))


class FrozenClock:
    """A clock that stands still until moved: `clock.advance(minutes=5)`."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FrozenClock needs an aware datetime")
        self.current = start.astimezone(UTC)

    def __call__(self) -> datetime:
        return self.current

    def set(self, value: datetime) -> None:
        self.current = value.astimezone(UTC)

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)
