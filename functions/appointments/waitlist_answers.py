"""A waitlist offer answered: accepted (it becomes a booking), declined, or lapsed (the sweeper).

Accept (`PUT /appointment/waitlist/:id/accept`): the per-doctor and overall appointment limits
apply now, so the offer takes its limit seats first (`claims.claim_seats`; its cells it holds
already), then one conditional update turns the `offered` appointment, still offered to this
patient and not expired, into a booking: `pending_payment` where payment is required (as a
booking is; `holds`), else `confirmed` (`pending` where the doctor confirms). The booking notices
and reminders follow through the outbox, as a booking's do. Failure-atomic
(`core.compensation`): take the seats (undo: release them by this acceptance's hold, only once
the appointment is known to be an offer again), turn the offer into a booking (undo: back to
`offered` if it is the booking this request made, for a write whose reply was lost); the entry is marked
`accepted` after the block (cleanup: the sweeper finishes an entry whose offer was answered).

Decline (`PUT .../decline`) and lapse (`sweep`): one conditional update cancels the offered
appointment (slot keys released); its cells are freed and the slot offered to the next in line by
the outbox's `appointments.changed` effect (`effects.deliver`, `waitlist_offers.offer_freed`);
the entry is done (`declined`, `lapsed`), its seat given back. The sweep also ends entries whose
days are over (`ended`; an offer such an entry still holds is withdrawn first).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bson import ObjectId

from functions.appointments import claims, holds
from functions.appointments.effects import Outcome, Release, Reminders, commits, run
from functions.appointments.grid import aware, released_key, reminder_offsets
from functions.appointments.messages import booking_kinds, recipient_of
from functions.appointments.status import (
    ACCEPTED,
    CANCELLED,
    DECLINED,
    ENDED,
    LAPSED,
    OFFERED,
    PENDING_PAYMENT,
    WAITING,
    booked_status,
    history_entry,
)
from functions.appointments.stores import appointments as appointments_store
from functions.appointments.stores import waitlist as store
from functions.core import clock, metrics
from functions.core.compensation import Compensations
from functions.core.config import get_settings
from functions.core.db import object_id
from functions.core.errors import Code, Conflict, NotFound
from functions.core.metrics import Metric
from functions.core.observability import logger
from functions.core.security import PATIENT, Principal

SWEEP_BATCH = 100


def _gone() -> Conflict:
    return Conflict("This offer is no longer open", code=Code.OFFER_GONE)


def _open_offer(patient: Principal, entry_id_text: str) -> tuple[dict[str, Any], ObjectId]:
    """The caller's entry holding an offer, and the offered appointment's id (404 for someone
    else's entry, 409 when it holds no offer)."""
    entry = store.find_own(object_id(entry_id_text, "Waitlist entry"), patient.id)
    if entry is None:
        raise NotFound.of("Waitlist entry")
    if entry.get("status") != OFFERED or not entry.get("offer"):
        raise _gone()
    return entry, entry["offer"]["appointment"]


@commits
def accept(patient: Principal, entry_id_text: str) -> Outcome:
    """PUT /appointment/waitlist/:id/accept (see the module's docstring)."""
    now, settings = clock.now(), get_settings()
    entry, appointment_id = _open_offer(patient, entry_id_text)
    offered = appointments_store.get(appointment_id)
    if offered is None or offered.get("status") != OFFERED or aware(offered["offerExpiresAt"]) <= now:
        raise _gone()
    held = holds.hold(now)
    status = held["status"] if held else booked_status(bool(offered.get("requiresConfirmation", False)))
    changes: dict[str, Any] = {
        "status": status, "updatedAt": now, "description": "Booked from the waitlist",
        "reminderOffsets": reminder_offsets(aware(offered["start"]), settings.reminder_offsets_minutes, now),
        **(held or {}),
    }
    seat_hold = f"accept|{appointment_id}"
    offer_back = {"stands": True}  # the seats may go once the offer is known to be an offer again

    def release_seats() -> None:
        if offer_back["stands"]:
            claims.release_hold(appointment_id, seat_hold)

    def back_to_offer() -> None:
        offer_back["stands"] = False
        appointments_store.apply_transition(
            {"_id": appointment_id, "status": status, "updatedAt": now}, {"status": OFFERED, "updatedAt": now},
            history_entry(OFFERED, None, "system", now, action="accept undone"))
        offer_back["stands"] = True

    with Compensations("waitlist accept") as undo:
        undo.step("take the limit seats", release_seats)
        claims.claim_seats(patient.id, offered["doctor"], appointment_id, seat_hold, aware(offered["end"]), now)
        undo.step("turn the offer into a booking", back_to_offer)
        booked = appointments_store.apply_transition(
            {"_id": appointment_id, "patient": patient.id, "status": OFFERED, "offerExpiresAt": {"$gt": now}},
            changes, history_entry(status, patient.id, PATIENT, now, action="accept offer"))
        if booked is None:
            raise _gone()
    _finish(entry["_id"], appointment_id, ACCEPTED, now)
    metrics.count(Metric.APPOINTMENT_BOOKED)
    if status == PENDING_PAYMENT:
        return Outcome(booked)
    parties = booked.get("parties") or {}
    to_patient, to_doctor = booking_kinds(status)
    return Outcome(booked, [(to_patient, recipient_of(parties.get("patient"), booked["patient"])),
                            (to_doctor, recipient_of(parties.get("doctor"), booked["doctor"]))], Reminders.ARM)


def decline(patient: Principal, entry_id_text: str) -> None:
    """PUT /appointment/waitlist/:id/decline (see the module's docstring)."""
    now = clock.now()
    entry, appointment_id = _open_offer(patient, entry_id_text)
    if not _withdraw({"_id": appointment_id, "patient": patient.id, "status": OFFERED}, patient.id, PATIENT,
                     "offer declined", now):
        raise _gone()
    _finish(entry["_id"], appointment_id, DECLINED, now)


def _withdraw(query: dict[str, Any], by: ObjectId | None, role: str, reason: str, now: datetime) -> bool:
    """Cancel the offered appointment (one conditional update); its cells are freed and the slot
    offered to the next in line by the outbox's effect."""
    oid = query["_id"]
    updated = appointments_store.apply_transition(
        query, {"status": CANCELLED, "updatedAt": now, "slotKey": released_key(oid),
                "patientSlotKey": released_key(oid), "cancellation": {"by": by, "role": role, "reason": reason,
                                                                      "at": now}},
        history_entry(CANCELLED, by, role, now, reason=reason))
    if updated is None:
        return False
    run(Outcome(updated, release=Release.CLAIMS))
    return True


def _finish(entry_id: ObjectId, appointment_id: ObjectId, status: str, now: datetime) -> None:
    """Cleanup after the answer's write: the entry is done, its seat given back (never fails the
    answer; the sweeper finishes what this misses)."""
    try:
        store.finish_offer(entry_id, appointment_id, status, now)
    except Exception as exc:
        logger.warning("waitlist entry left offered", extra={"error": type(exc).__name__})


def sweep(now: datetime) -> dict[str, int]:
    """Offers whose time ran out lapse (cancelled by the system; the next in line is offered);
    entries still `offered` whose offer was answered or lost are finished; entries whose days
    are over end (`_end_past`)."""
    lapsed = 0
    for appt in appointments_store.expired_offers(now, SWEEP_BATCH):
        if _withdraw({"_id": appt["_id"], "status": OFFERED, "offerExpiresAt": {"$lte": now}}, None, "system",
                     "offer lapsed", now):
            lapsed += 1
    finished = sum(_finish_answered(entry, LAPSED, now) for entry in store.offers_expired(now, SWEEP_BATCH))
    ended = _end_past(now)
    if lapsed or finished or ended:
        logger.info("waitlist swept", extra={"lapsed": lapsed, "finished": finished, "ended": ended})
    return {"waitlistOffersLapsed": lapsed, "waitlistEntriesFinished": finished, "waitlistEntriesEnded": ended}


def _finish_answered(entry: dict[str, Any], otherwise: str, now: datetime) -> bool:
    """An entry still `offered` whose offered appointment is no longer an offer is done:
    `accepted` when it became a booking, else `otherwise`. False while the offer stands."""
    appointment_id = entry["offer"]["appointment"]
    current = appointments_store.get(appointment_id)
    if current is not None and current.get("status") == OFFERED:
        return False  # lapses on the next run (see `sweep`)
    done = ACCEPTED if current is not None and current.get("status") != CANCELLED else otherwise
    return store.finish_offer(entry["_id"], appointment_id, done, now) is not None


def _end_past(now: datetime) -> int:
    """Entries whose last window closed (`endsAt`) end: a waiting one is `ended` (its seat given
    back); one still holding an offer has the offer withdrawn (its cells released; the slot is
    past, so nobody else is offered it), then ends the same way (`accepted` if it was accepted)."""
    ended = sum(store.end_waiting(entry["_id"], now) for entry in store.past(WAITING, now, SWEEP_BATCH))
    for entry in store.past(OFFERED, now, SWEEP_BATCH):
        offer = entry.get("offer") or {}
        if offer.get("appointment") is None:
            continue
        _withdraw({"_id": offer["appointment"], "status": OFFERED}, None, "system", "waitlist days over", now)
        ended += _finish_answered(entry, ENDED, now)
    return ended


def withdraw_for(party: str, party_id: ObjectId, appointment_id: ObjectId, reason: str, now: datetime) -> bool:
    """An offer withdrawn without a request of its patient's or doctor's (`party`: their account
    closed), as `decline` does it: the slot goes to the next in line."""
    return _withdraw({"_id": appointment_id, party: party_id, "status": OFFERED}, party_id, party, reason, now)
