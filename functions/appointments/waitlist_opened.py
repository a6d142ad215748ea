"""Waitlist offers of newly opened slots: when a doctor opens hours (`PUT /doctor/availability`)
or removes time off (`DELETE /doctor/time-off/:id`), the slots bookable now that were not before,
inside the windows of the entries waiting for that doctor, are offered to the first eligible
waiting patients (`waitlist_offers.offer_to`), as a freed slot is.

The request records one outbox effect (`KIND`: the doctor, and what was bookable before: the
hours and the time off as they were), one round trip and nothing else on its path. The outbox's
worker runs `deliver`: it reads the doctor as they are now, the entries waiting for them, and per
day with an entry the appointments that hold that day's slots; a slot of the new grid that the
old grid (with the old time off) did not offer, and that no appointment holds, goes to the first
in line whose window holds it.

Exactly once per slot: an offer claims the slot's cells before anything else (`claims`), so of
two deliveries offering one slot (two changes in a row, a re-run after a kill, a cancellation's
offer) or a booking racing them, one holds the slot and the others find it taken; an entry holds
one offer at a time (`stores.waitlist.take_for_offer`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from bson import ObjectId

from functions.appointments import grid, waitlist_offers
from functions.appointments.slots import local_days
from functions.appointments.status import ACTIVE
from functions.appointments.stores import appointments as appointments_store
from functions.appointments.stores import waitlist as store
from functions.core import clock, outbox, users
from functions.core.directory import is_listed
from functions.core.observability import logger

KIND = "appointments.opened"  # the outbox kind of `deliver`
ENTRIES = 100  # waiting entries read per delivery (first in line first)


def recorded(doctor: Mapping[str, Any]) -> None:
    """Record, after a change of the doctor's hours or time off, what was bookable before it
    (`doctor`: the doctor's document as read before the change). One round trip; never raises."""
    before_off = [{"start": i.start, "end": i.end} for i in grid.time_off_intervals(doctor)]
    outbox.record(outbox.Effect(KIND, {"doctor": doctor["_id"], "availability": doctor.get("availability"),
                                       "timeOff": before_off}, ref=doctor["_id"]))


def deliver(payload: Mapping[str, Any]) -> Sequence[outbox.Effect]:
    """The outbox's handler of `KIND` (see the module's docstring): the offers' messages."""
    now, doctor_id = clock.now(), payload["doctor"]
    doctor = users.find_doctor(doctor_id)
    if doctor is None or not is_listed(doctor):
        return []
    av, tz = grid.availability_from_doc(doctor.get("availability")), grid.doctor_timezone(doctor)
    if not grid.doctor_accepting(doctor, av):
        return []
    entries = store.waiting_for_doctor(doctor_id, ENTRIES)
    before = grid.availability_from_doc(payload.get("availability"))
    before_off = grid.time_off_intervals({"timeOff": list(payload.get("timeOff") or [])})
    today = grid.local_today(now, tz)
    messages: list[outbox.Effect] = []
    for day in sorted({d for e in entries for d in e["days"] if date.fromisoformat(d) >= today}):
        waiting = [e for e in entries if day in e["days"]]
        for slot in _opened(doctor, date.fromisoformat(day), av, before, before_off, now):
            if not waiting:
                break
            told, taker = waitlist_offers.offer_to(_slot_doc(doctor_id, day, tz.key, av, slot), waiting, now)
            messages += told
            waiting = [e for e in waiting if e["_id"] != taker]
            entries = [e for e in entries if e["_id"] != taker]
    if messages:
        logger.info("waitlist offers of opened slots", extra={"offers": len(messages)})
    return messages


def _opened(doctor: Mapping[str, Any], day: date, av: grid.Availability, before: grid.Availability,
            before_off: list[grid.Interval], now: datetime) -> list[grid.Slot]:
    """The free slots of the doctor's grid on `day` that the grid before did not offer (one read:
    the day's appointments holding slots)."""
    tz, off = grid.doctor_timezone(doctor), grid.time_off_intervals(doctor)
    earlier = {(s.start, s.end) for s in grid.compute_slots(day, tz, before, now=now, time_off=before_off)}
    fresh = {(s.start, s.end) for s in grid.compute_slots(day, tz, av, now=now, time_off=off)} - earlier
    window = grid.busy_window(day, tz, av)
    if not fresh or window is None:
        return []
    busy = [grid.Interval(grid.aware(s), grid.aware(e)) for s, e in
            appointments_store.busy_intervals(doctor["_id"], local_days(window, tz), *window, ACTIVE)]
    return [s for s in grid.compute_slots(day, tz, av, now=now, time_off=off, busy=busy) if (s.start, s.end) in fresh]


def _slot_doc(doctor_id: ObjectId, day: str, timezone: str, av: grid.Availability, slot: grid.Slot) -> dict[str, Any]:
    """What an offered appointment of the opened slot needs (`waitlist_offers.offer_to`)."""
    return {"doctor": doctor_id, "day": day, "time": slot.label, "timezone": timezone, "start": slot.start,
            "end": slot.end, "durationMinutes": av.slot_minutes, "bufferMinutes": av.buffer_minutes,
            "requiresConfirmation": av.requires_confirmation}
