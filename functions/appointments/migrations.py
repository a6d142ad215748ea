"""Data migrations of the appointments domain, run by ensure-indexes (`functions.registry`).

Each is idempotent and returns the documents it made: appointments booked before claims
(`claim_existing`) or seats (`seat_existing`) existed get theirs; waitlist entries joined before
`endsAt` existed get one (`waitlist_ends`).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from functions.appointments import claims
from functions.appointments.grid import aware, claim_ids
from functions.appointments.status import ACTIVE, WAITLIST_LIVE
from functions.appointments.stores import appointments
from functions.appointments.stores import waitlist as waitlist_store
from functions.appointments.waitlist import window_end
from functions.core import clock
from functions.core.config import get_settings
from functions.core.observability import logger

if TYPE_CHECKING:
    from pymongo.database import Database


def claim_existing(db: Database[dict[str, Any]]) -> int:
    """Every active appointment that has not ended holds its claims (appointments booked before
    claims existed). Idempotent: claims already there are kept; a cell held by another
    appointment (an overlap made before this version) is logged."""
    now = clock.now()
    made = 0
    fields = ("doctor", "patient", "start", "end", "bufferMinutes")
    active = [appt for status in ACTIVE for appt in appointments.not_ended(db, status, now, fields)]
    for appt in active:
        start, end = aware(appt["start"]), aware(appt["end"])
        buffer = timedelta(minutes=int(appt.get("bufferMinutes") or 0))
        wanted = claim_ids(appt["doctor"], start, end + buffer) + claim_ids(appt["patient"], start, end)
        held = claims.claimed_by(db, appt["_id"])
        docs = [claims.claim_doc(c, appt["_id"], str(appt["_id"]), now) for c in wanted if c not in held]
        if not docs:
            continue
        inserted, refused = claims.insert_missing(db, docs)
        made += inserted
        if refused:
            logger.warning("appointment overlaps another made before claims existed; the other keeps those cells",
                           extra={"appointmentId": str(appt["_id"]), "cells": refused})
    return made


def seat_existing(db: Database[dict[str, Any]]) -> int:
    """Every active appointment that has not ended holds a seat with its doctor and an overall
    one (appointments booked before seats existed), soonest first. Idempotent: an appointment
    holding seats is skipped. A patient already past a limit keeps those appointments; the ones
    beyond it hold no seat of that kind (logged), and the patient cannot book more until enough
    of them are over."""
    settings, now = get_settings(), clock.now()
    active = sorted((appt for status in ACTIVE
                     for appt in appointments.not_ended(db, status, now, ("doctor", "patient", "start", "end"))),
                    key=lambda a: aware(a["start"]))
    made = 0
    for appt in active:
        if claims.holds_a_seat(db, appt["_id"]):
            continue
        end = aware(appt["end"])
        hold = str(appt["_id"])
        for ids in claims.seat_ids(appt["patient"], appt["doctor"], settings.max_active_per_doctor,
                                   settings.max_active_per_patient):
            held = claims.seats_held_until_after(db, ids, now)
            taken = any(claims.take_ended_seat(seat, appt["_id"], hold, end, now, db)
                        for seat in ids if seat not in held)
            made += taken
            if not taken:
                logger.warning("appointment booked beyond a limit before seats existed; it holds no seat",
                               extra={"appointmentId": hold})
    return made


# Where a day ends last (UTC-12; the zone names its offset with the opposite sign).
LAST_ZONE = ZoneInfo("Etc/GMT+12")


def waitlist_ends(db: Database[dict[str, Any]]) -> int:
    """Live waitlist entries joined before `endsAt` existed get one: the close of their last
    day's window where that day ends last (UTC-12), so none is ended before its doctor's day is
    over (the doctor's zone is not read; they end up to a day late). Idempotent."""
    made = 0
    for status in WAITLIST_LIVE:
        while batch := waitlist_store.without_end(db, status, 100):
            done = sum(waitlist_store.set_end(db, e["_id"], window_end(date.fromisoformat(str(e["untilDay"])),
                                                                       str(e["to"]), LAST_ZONE)) for e in batch)
            made += done
            if not done:  # changed under us: the next run of ensure-indexes takes them
                break
    return made


MIGRATIONS = (claim_existing, seat_existing, waitlist_ends)
