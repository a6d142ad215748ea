"""The appointment status machine, as pure rules.

`check_transition` explains (with the right error) why a role may not apply an action now;
`transition_filter` is the same conditions as the filter of one conditional write, which is
what decides races. Transitions are exclusive: the filter also requires that the appointment
did not change at or after the instant the request arrived (`updatedAt < now`), so of two
requests sent at the same moment (a patient's cancel and the doctor's confirm) exactly one
applies and the other is a 409; the later one never silently builds on a change it could not
have seen.

Where a booking starts: `confirmed` at once, unless the doctor's `requiresConfirmation` setting
is on (then `pending` until the doctor confirms); where payment is required it is a
`pending_payment` hold first, and the payment moves it on by the same rule (`booked_status`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bson import ObjectId

from functions.appointments.grid import aware
from functions.core.errors import Code, Conflict, Forbidden, Unprocessable

# The one definition of the appointment statuses.
PENDING, CONFIRMED, COMPLETED, NO_SHOW, CANCELLED = "pending", "confirmed", "completed", "no_show", "cancelled"
PENDING_PAYMENT = "pending_payment"  # REQUIRE_APPOINTMENT_PAYMENT: held until paid (see `holds`)
# The longest an appointment lasts (the slot length's bound): lists read "not over yet" as a
# start after `now - MAX_APPOINTMENT_MINUTES`, which the (party, start, _id) index serves.
MAX_APPOINTMENT_MINUTES = 240
STATUSES = (PENDING_PAYMENT, PENDING, CONFIRMED, COMPLETED, NO_SHOW, CANCELLED)
ACTIVE = (PENDING_PAYMENT, PENDING, CONFIRMED)  # statuses that hold a slot
# A slot the waitlist offers (`waitlist_offers`): holds its cells like a booking (so the repair
# sweep leaves them), not listed by /appointment/my, until the patient accepts it.
OFFERED = "offered"
# A waitlist entry: waiting for a freed slot, holding an offer, or done (its seat given back).
WAITING, ACCEPTED, DECLINED, LAPSED, ENDED = "waiting", "accepted", "declined", "lapsed", "ended"
WAITLIST_LIVE = (WAITING, OFFERED)  # entries that count against WAITLIST_MAX_ENTRIES
# Statuses in which an appointment makes a care relationship (a doctor may read the patient's
# record): a booking still waiting for its payment, or cancelled, makes none.
CARE = (PENDING, CONFIRMED, COMPLETED, NO_SHOW)


@dataclass(frozen=True)
class Transition:
    action: str
    sources: tuple[str, ...]
    target: str
    roles: tuple[str, ...]
    after_start: bool = False


# The actions of the lifecycle routes.
CONFIRM, COMPLETE, MARK_NO_SHOW, CANCEL = "confirm", "complete", "no_show", "cancel"

TRANSITIONS: dict[str, Transition] = {
    CONFIRM: Transition(CONFIRM, (PENDING,), CONFIRMED, ("doctor",)),
    COMPLETE: Transition(COMPLETE, (CONFIRMED,), COMPLETED, ("doctor",), after_start=True),
    MARK_NO_SHOW: Transition(MARK_NO_SHOW, (CONFIRMED,), NO_SHOW, ("doctor",), after_start=True),
    CANCEL: Transition(CANCEL, ACTIVE, CANCELLED, ("patient", "doctor")),
}


def booked_status(requires_confirmation: bool) -> str:
    """The status of a booking that holds its slot (and is paid, where payment is required).
    Doctors without the setting confirm nothing: most booking systems confirm at once, and the
    existing frontend has no confirm control."""
    return PENDING if requires_confirmation else CONFIRMED


def rescheduled_status(current: str, role: str, requires_confirmation: bool) -> str:
    """A patient's move goes back to `pending` when the doctor confirms bookings (by the
    doctor's setting now: they accept the new time); any other move keeps the status, and an
    unpaid hold stays a hold."""
    if role == "patient" and requires_confirmation and current != PENDING_PAYMENT:
        return PENDING
    return current


def participant_role(appt: Mapping[str, Any], user_id: Any) -> str | None:
    if appt.get("patient") == user_id:
        return "patient"
    if appt.get("doctor") == user_id:
        return "doctor"
    return None


def check_transition(appt: Mapping[str, Any], action: str, role: str | None, *, now: datetime,
                     cancel_cutoff_minutes: int) -> Transition:
    """Raise the error that explains why `role` may not apply `action` now; return the rule."""
    rule = TRANSITIONS[action]
    if role not in rule.roles:
        raise Forbidden(f"Only the {' or the '.join(rule.roles)} can {action.replace('_', '-')} this appointment")
    if appt.get("status") not in rule.sources:
        raise Conflict(f"Cannot {action.replace('_', '-')} an appointment that is {appt.get('status')}",
                       code=Code.ILLEGAL_TRANSITION)
    start = aware(appt["start"])
    if rule.after_start and now < start:
        raise Unprocessable("The appointment has not started yet", code=Code.NOT_STARTED)
    if action == CANCEL and role == "patient":
        check_patient_cutoff(start, now, cancel_cutoff_minutes)
    return rule


def check_patient_cutoff(start: datetime, now: datetime, cutoff_minutes: int) -> None:
    if now > start - timedelta(minutes=cutoff_minutes):
        raise Unprocessable(f"Appointments can be changed by the patient up to {cutoff_minutes} minutes before "
                            "the start", code=Code.CANCEL_CUTOFF)


def transition_filter(appointment_id: ObjectId, rule: Transition, role: str, actor_id: ObjectId, *,
                      now: datetime, cancel_cutoff_minutes: int) -> dict[str, Any]:
    """The conditions of `check_transition`, as one atomic update's filter."""
    query: dict[str, Any] = {"_id": appointment_id, role: actor_id, "status": {"$in": list(rule.sources)},
                             "updatedAt": {"$lt": now}}
    if rule.after_start:
        query["start"] = {"$lte": now}
    if rule.action == CANCEL and role == "patient":
        query["start"] = {"$gte": now + timedelta(minutes=cancel_cutoff_minutes)}
    return query


def history_entry(status: str, by: ObjectId | None, role: str, now: datetime, **extra: Any) -> dict[str, Any]:
    """One entry of the status history: who (`by`, None for the system) in which role did what."""
    entry = {"status": status, "at": now, "by": by, "role": role}
    entry.update({k: v for k, v in extra.items() if v not in (None, "")})
    return entry
