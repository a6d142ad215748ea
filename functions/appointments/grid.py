"""The doctor's grid and free slots, as pure functions (no I/O), and the claim cells that make
overlapping bookings impossible.

Time: instants are UTC `datetime`s; a doctor's schedule is wall-clock `HH:MM` in the doctor's
IANA zone. On the day clocks go back, a repeated wall time means its first occurrence; on the
day clocks go forward, wall times that do not exist are never offered, and neither is a slot
that would overlap the one before it in absolute time (a 01:00-03:00 slot on a spring-forward
night in New York ends at 04:00 EDT, so a 03:00 slot is not offered).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from functions.core.config import get_settings
from functions.core.errors import BadRequest, Code, Unprocessable

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MAX_SLOT_MINUTES = 240
MAX_HORIZON_DAYS = 365
CELL_MINUTES = 5  # claim granularity: every slot, buffer and zone offset in use is a multiple of it

_DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CLOCK_RE = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True)
class Availability:
    """A doctor's bookable hours. `weekly[weekday]` = ranges of minutes since local midnight."""

    weekly: Mapping[str, tuple[tuple[int, int], ...]]
    slot_minutes: int = 30
    buffer_minutes: int = 0
    min_notice_minutes: int = 60
    horizon_days: int = 30
    accepting: bool = True
    is_default: bool = False
    # Stored with the hours: bookings start `pending` until the doctor confirms them (`status`).
    requires_confirmation: bool = False


DEFAULT_AVAILABILITY = Availability(weekly={day: ((9 * 60, 17 * 60),) for day in WEEKDAYS}, is_default=True)


@dataclass(frozen=True)
class Slot:
    start: datetime  # UTC
    end: datetime  # UTC
    label: str  # HH:MM on the doctor's wall clock

    def to_api(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "label": self.label}


@dataclass(frozen=True)
class Interval:
    start: datetime
    end: datetime


def _hhmm_to_minutes(value: str) -> int:
    if value == "24:00":
        return 24 * 60
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


def minutes_to_hhmm(value: int) -> str:
    return f"{value // 60:02d}:{value % 60:02d}"


def availability_from_doc(doc: Mapping[str, Any] | None) -> Availability:
    """The stored `availability` field of a doctor (or the default schedule when unset)."""
    if not doc:
        return DEFAULT_AVAILABILITY
    weekly_doc = doc.get("weeklyHours")
    if weekly_doc is None:
        weekly: Mapping[str, tuple[tuple[int, int], ...]] = DEFAULT_AVAILABILITY.weekly
    else:
        weekly = {
            day: tuple((_hhmm_to_minutes(r["start"]), _hhmm_to_minutes(r["end"])) for r in weekly_doc.get(day, []))
            for day in WEEKDAYS
        }
    return Availability(
        weekly=weekly,
        slot_minutes=int(doc.get("slotMinutes", 30)),
        buffer_minutes=int(doc.get("bufferMinutes", 0)),
        min_notice_minutes=int(doc.get("minNoticeMinutes", 60)),
        horizon_days=int(doc.get("horizonDays", 30)),
        accepting=bool(doc.get("acceptingBookings", True)),
        requires_confirmation=bool(doc.get("requiresConfirmation", False)),
    )


def availability_to_api(av: Availability, timezone: str) -> dict[str, Any]:
    return {
        "timezone": timezone,
        "weeklyHours": {
            day: [{"start": minutes_to_hhmm(s), "end": minutes_to_hhmm(e)} for s, e in av.weekly.get(day, ())]
            for day in WEEKDAYS
        },
        "slotMinutes": av.slot_minutes,
        "bufferMinutes": av.buffer_minutes,
        "minNoticeMinutes": av.min_notice_minutes,
        "horizonDays": av.horizon_days,
        "acceptingBookings": av.accepting,
        "requiresConfirmation": av.requires_confirmation,
        "isDefault": av.is_default,
    }


def doctor_timezone(doctor: Mapping[str, Any]) -> ZoneInfo:
    name = doctor.get("timezone") or get_settings().default_timezone
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(get_settings().default_timezone)


def doctor_accepting(doctor: Mapping[str, Any], av: Availability) -> bool:
    """The doctor's own switch; the reference's `availablity` string flag is honoured too (D-46)."""
    legacy = doctor.get("availablity", True)
    return av.accepting and legacy not in (False, "false")


def time_off_intervals(doctor: Mapping[str, Any]) -> list[Interval]:
    entries = doctor.get("timeOff") or {}
    values = entries.values() if isinstance(entries, Mapping) else entries
    return [Interval(aware(e["start"]), aware(e["end"])) for e in values if e.get("start") and e.get("end")]


def aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def parse_day(value: str, now: datetime | None = None) -> date:
    """`YYYY-MM-DD` that names a real calendar day, else 400 (D-13: impossible dates such as
    `2030-02-31` were accepted). With `now`, also a day within [today - 1 year, today + the longest
    horizon], checked before any time-zone conversion (year 1 or 9999 would overflow it)."""
    if not isinstance(value, str) or not _DAY_RE.match(value):
        raise BadRequest("Invalid date format. Use YYYY-MM-DD", code=Code.INVALID_DATE)
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise BadRequest("This date does not exist", code=Code.INVALID_DATE) from None
    if now is not None:
        today = now.astimezone(UTC).date()
        if not today - timedelta(days=366) <= day <= today + timedelta(days=MAX_HORIZON_DAYS + 1):
            raise BadRequest("The date is out of range", code=Code.DATE_OUT_OF_RANGE)
    return day


def normalize_time(value: str) -> str:
    """`9:00` -> `09:00` (D-13: one spelling per slot, so the unique key cannot be bypassed)."""
    match = _CLOCK_RE.match(value.strip()) if isinstance(value, str) else None
    if not match:
        raise BadRequest("Invalid time format. Use HH:MM", code=Code.INVALID_TIME)
    return f"{int(match.group(1)):02d}:{match.group(2)}"


def local_to_utc(day: date, minutes: int, tz: ZoneInfo) -> datetime | None:
    """The UTC instant of wall time `minutes` after local midnight on `day`, or None when that
    wall time does not exist (skipped by a spring-forward). Repeated wall times resolve to their
    first occurrence (fold=0)."""
    naive = datetime.combine(day, time()) + timedelta(minutes=minutes)
    instant = naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) != naive:
        return None
    return instant


def overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    return a_start < b_end and b_start < a_end


def candidate_slots(day: date, tz: ZoneInfo, av: Availability) -> list[Slot]:
    """Every slot of the doctor's grid on that local day, before anything is taken away.

    A grid starts at each range start and advances by slot + buffer; a slot must end by the end
    of its range. A slot that would overlap (buffer included) the previous one in absolute time,
    which only a clock change can cause, is left out.
    """
    slots: list[Slot] = []
    step = av.slot_minutes + av.buffer_minutes
    for range_start, range_end in av.weekly.get(WEEKDAYS[day.weekday()], ()):
        minute = range_start
        while minute + av.slot_minutes <= range_end and minute < 24 * 60:
            start = local_to_utc(day, minute, tz)
            if start is not None:
                slots.append(Slot(start, start + timedelta(minutes=av.slot_minutes), minutes_to_hhmm(minute)))
            minute += step
    slots.sort(key=lambda s: s.start)
    buffer = timedelta(minutes=av.buffer_minutes)
    kept: list[Slot] = []
    for slot in slots:
        if not kept or (slot.label != kept[-1].label and slot.start >= kept[-1].end + buffer):
            kept.append(slot)
    return kept


def local_today(now: datetime, tz: ZoneInfo) -> date:
    return now.astimezone(tz).date()


def within_horizon(day: date, now: datetime, tz: ZoneInfo, av: Availability) -> bool:
    return (day - local_today(now, tz)).days <= av.horizon_days


def compute_slots(
    day: date,
    tz: ZoneInfo,
    av: Availability,
    *,
    now: datetime,
    time_off: Iterable[Interval] = (),
    busy: Iterable[Interval] = (),
) -> list[Slot]:
    """Free slots of a local day: the grid minus time off, minus taken appointments (widened by
    the buffer), minus the past and the minimum notice, and nothing beyond the horizon."""
    if not av.accepting or not within_horizon(day, now, tz, av) or day < local_today(now, tz):
        return []
    earliest = now + timedelta(minutes=av.min_notice_minutes)
    buffer = timedelta(minutes=av.buffer_minutes)
    off, taken = list(time_off), list(busy)
    free = []
    for slot in candidate_slots(day, tz, av):
        if slot.start < earliest:
            continue
        if any(overlaps(slot.start, slot.end, o.start, o.end) for o in off):
            continue
        if any(overlaps(slot.start - buffer, slot.end + buffer, b.start, b.end) for b in taken):
            continue
        free.append(slot)
    return free


def busy_window(day: date, tz: ZoneInfo, av: Availability) -> tuple[datetime, datetime] | None:
    """The UTC window of appointments that can touch that day's grid (None: no grid that day)."""
    grid = candidate_slots(day, tz, av)
    if not grid:
        return None
    reach = timedelta(minutes=MAX_SLOT_MINUTES + av.buffer_minutes)
    return grid[0].start - reach, grid[-1].end + timedelta(minutes=av.buffer_minutes)


def check_bookable(
    day: date, label: str, tz: ZoneInfo, av: Availability, *, now: datetime, time_off: Iterable[Interval] = ()
) -> Slot:
    """The slot the slots endpoint would offer for `day`+`label`, ignoring other bookings (the
    database's unique keys decide those); else a 422 that says why."""
    if not av.accepting:
        raise Unprocessable("This doctor is not accepting bookings", code=Code.NOT_ACCEPTING)
    minute = _hhmm_to_minutes(label)
    instant = local_to_utc(day, minute, tz)
    if instant is not None and instant < now:
        raise Unprocessable("Cannot book an appointment in the past", code=Code.SLOT_IN_PAST)
    if not within_horizon(day, now, tz, av):
        raise Unprocessable(f"Bookings open at most {av.horizon_days} days ahead", code=Code.BEYOND_HORIZON)
    slot = next((s for s in candidate_slots(day, tz, av) if s.label == label), None)
    if slot is None:
        raise Unprocessable("This time is not one of the doctor's slots", code=Code.NOT_A_SLOT)
    if slot.start < now + timedelta(minutes=av.min_notice_minutes):
        raise Unprocessable(f"Book at least {av.min_notice_minutes} minutes ahead", code=Code.TOO_SOON)
    if any(overlaps(slot.start, slot.end, o.start, o.end) for o in time_off):
        raise Unprocessable("The doctor is away at this time", code=Code.DOCTOR_AWAY)
    return slot


def slot_key(owner_id: Any, start: datetime) -> str:
    """Unique key of the first version: one active appointment per doctor (or patient) and
    start instant. Kept as a second line of defence beside the claims."""
    return f"{owner_id}|{start.astimezone(UTC):%Y-%m-%dT%H:%MZ}"


def released_key(appointment_id: Any) -> str:
    """What a slot key becomes when the appointment stops holding it (still unique)."""
    return f"released|{appointment_id}"


def claim_ids(owner_id: Any, start: datetime, end: datetime) -> list[str]:
    """`owner|cell` for every 5-minute cell of absolute time that [start, end) touches. Two
    appointments overlap exactly when they share a cell of the same owner, so unique `_id`s of
    these claim documents make overlaps impossible whatever the slot lengths or clock changes."""
    step = timedelta(minutes=CELL_MINUTES)
    first = start.astimezone(UTC)
    cell = first.replace(minute=first.minute - first.minute % CELL_MINUTES, second=0, microsecond=0)
    ids = []
    while cell < end:
        ids.append(f"{owner_id}|{cell:%Y-%m-%dT%H:%MZ}")
        cell += step
    return ids


def reminder_offsets(start: datetime, offsets: Iterable[int], now: datetime) -> list[int]:
    """Offsets (minutes before start) whose send time is still ahead; past ones are skipped."""
    return sorted({o for o in offsets if o > 0 and start - timedelta(minutes=o) > now}, reverse=True)


def room_id() -> str:
    return secrets.token_urlsafe(16)  # 128 random bits: unguessable (the reference used Math.random)
