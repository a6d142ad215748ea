"""Pydantic models for appointments request bodies and query strings.

Only shapes and bounds live here; calendar rules (is this a real date, is it an offered slot)
are in `grid`, which answers 400 for impossible dates and 422 for slots not on offer.
"""

from __future__ import annotations

import re
from datetime import datetime
from itertools import pairwise
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints, field_validator, model_validator

from functions.appointments.status import STATUSES
from functions.core.schemas import PageQuery, WriteModel

OBJECT_ID = r"^[0-9a-fA-F]{24}$"
DAY = r"^\d{4}-\d{2}-\d{2}$"
CLOCK = r"^([01]?\d|2[0-3]):[0-5]\d$"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


Strict = WriteModel


# ---------------------------------------------------------------- availability


def _minutes(value: str, *, allow_midnight_end: bool = False) -> int:
    if allow_midnight_end and value == "24:00":
        return 24 * 60
    if not re.match(CLOCK, value):
        raise ValueError("expected HH:MM (00:00-23:59)")
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


class TimeRange(Strict):
    start: str = Field(description="HH:MM, doctor-local")
    end: str = Field(description="HH:MM, doctor-local; 24:00 = end of day")

    @model_validator(mode="after")
    def _ordered(self) -> TimeRange:
        start = _minutes(self.start)
        end = _minutes(self.end, allow_midnight_end=True)
        if end <= start:
            raise ValueError("end must be after start")
        if start % 5 or end % 5:
            raise ValueError("times must be on a 5-minute boundary")
        self.start, self.end = f"{start // 60:02d}:{start % 60:02d}", f"{end // 60:02d}:{end % 60:02d}"
        return self

    @property
    def minutes(self) -> tuple[int, int]:
        return _minutes(self.start), _minutes(self.end, allow_midnight_end=True)


DayRanges = Annotated[list[TimeRange], Field(max_length=12)]


class WeeklyHours(Strict):
    monday: DayRanges = []
    tuesday: DayRanges = []
    wednesday: DayRanges = []
    thursday: DayRanges = []
    friday: DayRanges = []
    saturday: DayRanges = []
    sunday: DayRanges = []

    @model_validator(mode="after")
    def _no_overlaps(self) -> WeeklyHours:
        for day in WEEKDAYS:
            ranges = sorted(getattr(self, day), key=lambda r: r.minutes)
            for before, after in pairwise(ranges):
                if after.minutes[0] < before.minutes[1]:
                    raise ValueError(f"{day}: ranges {before.start}-{before.end} and {after.start}-{after.end} overlap")
            setattr(self, day, ranges)
        return self


class AvailabilityIn(Strict):
    """PUT /doctor/availability replaces the whole setting; omitted fields take their defaults."""

    weeklyHours: WeeklyHours | None = None  # None = the default schedule (every day 09:00-17:00)
    slotMinutes: int = Field(30, ge=5, le=240, multiple_of=5)
    bufferMinutes: int = Field(0, ge=0, le=120, multiple_of=5)
    minNoticeMinutes: int = Field(60, ge=0, le=14 * 24 * 60)
    horizonDays: int = Field(30, ge=1, le=365)
    acceptingBookings: bool = True
    requiresConfirmation: bool = Field(False, description="New bookings wait (`pending`) until the doctor "
                                       "confirms them; off (the default): they are confirmed at once")


def _sane_year(value: datetime) -> datetime:
    """Years far from now would overflow time-zone arithmetic (a 500 before): 400 instead."""
    if not 2000 <= value.year <= 2200:
        raise ValueError("must be between the years 2000 and 2200")
    return value


class TimeOffIn(Strict):
    start: Annotated[datetime, AfterValidator(_sane_year)] = Field(
        description="ISO 8601; without an offset it is the doctor's local time")
    end: Annotated[datetime, AfterValidator(_sane_year)]
    reason: Annotated[str, StringConstraints(max_length=200)] = ""


# ---------------------------------------------------------------- appointments


class BookingIn(Strict):
    doctor: Annotated[str, StringConstraints(pattern=OBJECT_ID)]
    description: Annotated[str, StringConstraints(min_length=1, max_length=500)]
    symptoms: Annotated[str, StringConstraints(min_length=1, max_length=1000)]
    day: Annotated[str, StringConstraints(pattern=DAY)]
    time: Annotated[str, StringConstraints(pattern=CLOCK)]
    aiSuggestions: Annotated[str, StringConstraints(max_length=2000)] | None = None


class RescheduleIn(Strict):
    day: Annotated[str, StringConstraints(pattern=DAY)]
    time: Annotated[str, StringConstraints(pattern=CLOCK)]


class CancelIn(Strict):
    reason: Annotated[str, StringConstraints(min_length=1, max_length=500)]


class OptionalCancelIn(Strict):
    reason: Annotated[str, StringConstraints(max_length=500)] = ""


class EmptyIn(Strict):
    pass


class MyQuery(PageQuery):
    """Query string of GET /appointment/my (unknown parameters such as cache busters are ignored)."""

    status: str | None = None

    @field_validator("status")
    @classmethod
    def _statuses(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        parts = [part.strip() for part in value.split(",") if part.strip()]
        unknown = [part for part in parts if part not in STATUSES]
        if unknown or not parts:
            raise ValueError(f"expected one or more of {', '.join(STATUSES)}")
        return ",".join(parts)

    @property
    def statuses(self) -> list[str]:
        return self.status.split(",") if self.status else []


# ---------------------------------------------------------------- waitlist


class WaitlistIn(Strict):
    """POST /appointment/waitlist: a day (or `day`..`untilDay`, at most 14 days) and a window."""

    doctor: str = Field(pattern=OBJECT_ID)
    day: str = Field(pattern=DAY, description="YYYY-MM-DD, doctor-local")
    from_: str = Field(alias="from", pattern=CLOCK, description="HH:MM, doctor-local")
    to: str = Field(pattern=CLOCK, description="HH:MM, doctor-local, after `from`")
    untilDay: str | None = Field(default=None, pattern=DAY, description="YYYY-MM-DD: the last day of a range")

    @model_validator(mode="after")
    def _window(self) -> WaitlistIn:
        start, end = _minutes(self.from_), _minutes(self.to)
        if end <= start:
            raise ValueError("`to` must be after `from`")
        self.from_, self.to = f"{start // 60:02d}:{start % 60:02d}", f"{end // 60:02d}:{end % 60:02d}"
        return self
