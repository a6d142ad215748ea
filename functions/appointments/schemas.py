"""Pydantic models for appointments request bodies and query strings.

Only shapes and bounds live here; calendar rules (is this a real date, is it an offered slot)
are in `grid`, which answers 400 for impossible dates and 422 for slots not on offer.
"""

from __future__ import annotations

import re
from datetime import datetime
from itertools import pairwise
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, StringConstraints, field_validator, model_validator

from functions.appointments.status import MAX_APPOINTMENT_MINUTES, STATUSES
from functions.core.schemas import Answer, Id, OpenOutModel, OutModel, PageOut, PageQuery, Timestamp, WriteModel

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
    slotMinutes: int = Field(30, ge=5, le=MAX_APPOINTMENT_MINUTES, multiple_of=5)
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


# ---------------------------------------------------------------- answers (the OpenAPI document's `*Out` models)

Status = Literal["offered", "pending_payment", "pending", "confirmed", "completed", "no_show", "cancelled"]


class PatientPartyOut(OutModel):
    """The patient of an appointment; `contact` only in the doctor's own list (their cards show it)."""

    id: Id = Field(alias="_id")
    name: str | None
    contact: str | None = None


class DoctorPartyOut(OutModel):
    id: Id = Field(alias="_id")
    name: str | None
    speciality: str | None


class CancellationOut(OutModel):
    by: Id | None
    role: str | None
    reason: str | None
    at: Timestamp | None


class StatusEntryOut(OpenOutModel):
    """One step of an appointment's life: who (`by`, null for the system) in which role did what."""

    status: str
    at: Timestamp
    by: Id | None
    role: str
    action: str | None = None
    reason: str | None = None


class AppointmentOut(OutModel):
    """An appointment as its participants see it (`appointments.views.appointment_to_api`): `day`
    and `time` are the doctor's local date and start (`YYYY-MM-DD`, `HH:MM`) in `timezone`; `start`
    and `end` the instants. One appointment read alone adds `statusHistory` (and `aiSuggestions`)."""

    id: Id = Field(alias="_id")
    patient: PatientPartyOut
    doctor: DoctorPartyOut
    description: str | None
    symptoms: str | None
    roomId: str | None = Field(description="The video room the two participants join")
    day: str | None
    time: str | None
    timezone: str | None
    start: Timestamp | None
    end: Timestamp | None
    durationMinutes: int | None
    status: Status
    createdAt: Timestamp | None
    updatedAt: Timestamp | None
    cancellation: CancellationOut | None = None
    statusHistory: list[StatusEntryOut] | None = None
    aiSuggestions: str | None = None


class AppointmentAnswer(Answer):
    appointment: AppointmentOut


class CancelledAnswer(Answer):
    message: str
    appointment: AppointmentOut


class AppointmentsAnswer(Answer):
    count: int
    appointments: list[AppointmentOut]
    pagination: PageOut


class SlotOut(OutModel):
    start: Timestamp
    end: Timestamp
    label: str = Field(description="The local start time, `HH:MM`")


class SlotDoctorOut(OutModel):
    id: Id
    name: str | None
    speciality: str | None


class SlotsAnswer(Answer):
    """A day's free slots of a doctor: `availableSlots` the labels (`HH:MM`, the old frontend's
    list), `slots` the same with their instants."""

    date: str
    timezone: str
    doctor: SlotDoctorOut
    availableSlots: list[str]
    slots: list[SlotOut]


class HoursOut(OutModel):
    start: str = Field(description="`HH:MM`, local")
    end: str = Field(description="`HH:MM`, local (`24:00` for midnight)")


class AvailabilityOut(OutModel):
    timezone: str
    weeklyHours: dict[str, list[HoursOut]] = Field(description="Per weekday (`monday`...), the bookable hours")
    slotMinutes: int
    bufferMinutes: int
    minNoticeMinutes: int
    horizonDays: int
    acceptingBookings: bool
    requiresConfirmation: bool
    isDefault: bool


class TimeOffOut(OutModel):
    id: str = Field(alias="_id")
    start: Timestamp
    end: Timestamp
    reason: str | None = None
    createdAt: Timestamp | None = None


class ScheduleAnswer(Answer):
    availability: AvailabilityOut
    timeOff: list[TimeOffOut]


class AvailabilityAnswer(Answer):
    availability: AvailabilityOut


class AffectedOut(OutModel):
    """An appointment inside new time off: the doctor reschedules or cancels it."""

    id: Id = Field(alias="_id")
    start: Timestamp | None = None
    end: Timestamp | None = None
    status: Status | None = None
    day: str | None = None
    time: str | None = None


class TimeOffAnswer(Answer):
    timeOff: TimeOffOut
    affectedAppointments: list[AffectedOut]


EXAMPLES: dict[str, dict[str, dict[str, Any]]] = {
    "book": {"a patient books a slot": {
        "request": {"doctor": "665f1c2e9b1e8a0012345679", "day": "2026-12-10", "time": "10:00",
                    "description": "Follow-up", "symptoms": "cough for a week"},
        "response": {"success": True, "appointment": {
            "_id": "665f1c2e9b1e8a00123456aa",
            "patient": {"_id": "665f1c2e9b1e8a0012345678", "name": "Asha Rao"},
            "doctor": {"_id": "665f1c2e9b1e8a0012345679", "name": "Dr. Mehta", "speciality": "general"},
            "description": "Follow-up", "symptoms": "cough for a week", "roomId": "room-3f2a9c",
            "day": "2026-12-10", "time": "10:00", "timezone": "Asia/Kolkata",
            "start": "2026-12-10T04:30:00Z", "end": "2026-12-10T05:00:00Z", "durationMinutes": 30,
            "status": "pending", "createdAt": "2026-12-06T09:00:00Z", "updatedAt": "2026-12-06T09:00:00Z",
            "statusHistory": [{"status": "pending", "at": "2026-12-06T09:00:00Z",
                               "by": "665f1c2e9b1e8a0012345678", "role": "patient", "action": "book"}]}}}},
    "slots": {"a day with two free slots": {"response": {
        "success": True, "date": "2026-12-10", "timezone": "Asia/Kolkata",
        "doctor": {"id": "665f1c2e9b1e8a0012345679", "name": "Dr. Mehta", "speciality": "general"},
        "availableSlots": ["10:00", "10:30"],
        "slots": [{"start": "2026-12-10T04:30:00Z", "end": "2026-12-10T05:00:00Z", "label": "10:00"},
                  {"start": "2026-12-10T05:00:00Z", "end": "2026-12-10T05:30:00Z", "label": "10:30"}]}}},
}
_LISTED = {k: v for k, v in EXAMPLES["book"]["a patient books a slot"]["response"]["appointment"].items()
           if k != "statusHistory"}
EXAMPLES["my"] = {"a patient's list": {"response": {
    "success": True, "count": 1, "appointments": [_LISTED],
    "pagination": {"total": 1, "page": 1, "pages": 1, "limit": 20}}}}


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


WaitlistStatus = Literal["waiting", "offered", "accepted", "declined", "lapsed", "ended"]


class OfferOut(OutModel):
    """The slot held for the entry's patient until `expiresAt` (an appointment in status `offered`)."""

    appointment: Id
    day: str = Field(description="`YYYY-MM-DD`, the doctor's local day")
    time: str = Field(description="`HH:MM`, the doctor's local start")
    expiresAt: Timestamp


class WaitlistEntryOut(OutModel):
    """A waitlist entry: a doctor, a day or a range of days (`day`..`untilDay`), a local window."""

    id: Id = Field(alias="_id")
    doctor: Id
    day: str | None
    untilDay: str | None
    from_: str | None = Field(alias="from", description="`HH:MM`, doctor-local")
    to: str | None = Field(description="`HH:MM`, doctor-local")
    status: WaitlistStatus
    offer: OfferOut | None


class WaitlistEntryAnswer(Answer):
    entry: WaitlistEntryOut


class WaitlistAnswer(Answer):
    waitlist: list[WaitlistEntryOut]
