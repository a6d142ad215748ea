"""An appointment's life after booking: confirm, complete, no-show, cancel, and reschedule.

Each is one conditional update (see `status`) that decides races; a cancellation frees its
claims and seats, a completion or no-show its seats (both through the outbox's effect,
`effects.deliver`), a move claims its new cells first (`claims.claim_move`). Round trips of a
cancellation (the guard's user read included): 3 (user, the conditional update, the effect's
record; issue 20).

Failure-atomic (`core.compensation`). A cancellation (or completion, no-show) is one write: what
follows it (releasing claims or seats, the refund) is cleanup that never fails the answer; the
outbox's worker releases them (and retries), and if the record itself is lost, the repair sweep
(`repair`) releases the claims of an appointment that no longer holds them. Until the worker has
run (well under a second), a booking of the freed time meets the old claims: 409. A move names
three steps: claim the new cells (undo: release them by this move's hold), move the appointment
(undo: move it back, if it is where this request put it), move its seats (undo: back to the old
end); the new cells are released only once the appointment is known not to stand on them. Releasing
the cells it left is cleanup after the block.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from functions.appointments import claims, holds
from functions.appointments.effects import Outcome, Release, Reminders, commits
from functions.appointments.grid import (
    aware,
    check_bookable,
    normalize_time,
    parse_day,
    released_key,
    reminder_offsets,
    slot_key,
    time_off_intervals,
)
from functions.appointments.messages import Recipient, recipient_of
from functions.appointments.schemas import RescheduleIn
from functions.appointments.slots import bookable, listed_doctor
from functions.appointments.status import (
    ACTIVE,
    CANCELLED,
    CONFIRMED,
    NO_SHOW,
    TRANSITIONS,
    check_patient_cutoff,
    check_transition,
    history_entry,
    participant_role,
    rescheduled_status,
    transition_filter,
)
from functions.appointments.stores import appointments as store
from functions.core import clock, metrics
from functions.core.compensation import Compensations
from functions.core.config import get_settings
from functions.core.db import object_id
from functions.core.errors import Code, Conflict, NotFound, PatientBusy, SlotTaken, Unprocessable
from functions.core.metrics import Metric
from functions.core.observability import logger
from functions.core.security import ADMIN, DOCTOR, PATIENT, Principal


def _notices(appt: Mapping[str, Any], kind: str, caller: Principal) -> list[tuple[str, Recipient | None]]:
    """Both participants; the caller's own contact is current (just read by the guard), the other
    party's comes from the appointment's snapshot."""
    parties = appt.get("parties") or {}
    out: list[tuple[str, Recipient | None]] = []
    for who in ("patient", "doctor"):
        person = caller.user if appt[who] == caller.id else parties.get(who)
        out.append((kind, recipient_of(person, appt[who])))
    return out


def _cleanup(what: str, work: Any) -> None:
    """Work after the write that the answer does not need: a failure is logged and left to the
    repair sweep, never a failed request."""
    try:
        work()
    except Exception as exc:
        logger.warning("Left to the repair sweep", extra={"step": what, "error": type(exc).__name__})


@commits
def transition(caller: Principal, appointment_id: str, action: str, reason: str = "") -> Outcome:
    """confirm / complete / no_show / cancel: one conditional update (see `status`); what it
    frees and who is told go to the outbox (`effects`). Only when the update matches nothing is the
    appointment read, to say why."""
    settings, now = get_settings(), clock.now()
    oid = object_id(appointment_id, "Appointment")
    role = caller.role if caller.role in (DOCTOR, PATIENT) else None
    rule = TRANSITIONS[action]
    updated = None
    if role in rule.roles:
        entry = history_entry(rule.target, caller.id, str(role), now, reason=reason or None)
        changes: dict[str, Any] = {"status": rule.target, "updatedAt": now}
        if rule.target == CANCELLED:
            changes.update({"slotKey": released_key(oid), "patientSlotKey": released_key(oid),
                            "cancellation": {"by": caller.id, "role": role, "reason": reason, "at": now}})
        query = transition_filter(oid, rule, str(role), caller.id, now=now,
                                  cancel_cutoff_minutes=settings.cancel_cutoff_minutes)
        updated = store.apply_transition(query, changes, entry)
    if updated is None:
        current = store.get(oid)
        actual_role = participant_role(current, caller.id) if current else None
        if current is None or (actual_role is None and caller.role != ADMIN):
            raise NotFound.of("Appointment")
        check_transition(current, action, actual_role, now=now, cancel_cutoff_minutes=settings.cancel_cutoff_minutes)
        raise Conflict("The appointment changed at the same moment; look at it again", code=Code.APPOINTMENT_CHANGED)
    _count(rule.target, role)
    if rule.target == CANCELLED:  # its claims and seats are freed by the effect (the repair sweep if lost)
        holds.refund_if_paid(updated)
        return Outcome(updated, _notices(updated, CANCELLED, caller), Reminders.DISARM, release=Release.CLAIMS)
    if rule.target not in ACTIVE:  # completed or no-show: no longer counts against the limits
        return Outcome(updated, release=Release.SEATS)
    return Outcome(updated, _notices(updated, CONFIRMED, caller) if rule.target == CONFIRMED else [])


def _count(target: str, role: str | None) -> None:
    """The business metric of a transition that happened (who cancelled is in its name)."""
    if target == CANCELLED:
        metrics.count({DOCTOR: Metric.APPOINTMENT_CANCELLED_BY_DOCTOR, PATIENT: Metric.APPOINTMENT_CANCELLED_BY_PATIENT}
                      .get(str(role), Metric.APPOINTMENT_CANCELLED_BY_SYSTEM))
    elif target == NO_SHOW:
        metrics.count(Metric.APPOINTMENT_NO_SHOW)


@commits
def reschedule(caller: Principal, appointment_id: str, body: RescheduleIn) -> Outcome:
    """Move to another offered slot: claim the new cells this appointment does not hold yet,
    move it by one conditional update (unchanged since it was read, and not changed at the
    moment this request arrived), then release the cells it no longer covers. A refusal at any
    step removes this request's new claims and changes nothing (409). The status stays, except
    that a patient's move waits for a doctor who requires confirmation (`rescheduled_status`)."""
    settings, now = get_settings(), clock.now()
    oid = object_id(appointment_id, "Appointment")
    appt = store.get(oid)
    role = participant_role(appt, caller.id) if appt else None
    if appt is None or role is None:
        raise NotFound.of("Appointment")
    if appt.get("status") not in ACTIVE:
        raise Conflict(f"Cannot reschedule an appointment that is {appt.get('status')}",
                       code=Code.ILLEGAL_TRANSITION)
    if aware(appt["updatedAt"]) >= now:
        raise Conflict("The appointment changed at the same moment; look at it again", code=Code.APPOINTMENT_CHANGED)
    old_start = aware(appt["start"])
    if role == PATIENT:
        check_patient_cutoff(old_start, now, settings.cancel_cutoff_minutes)
    day, label = parse_day(body.day, now), normalize_time(body.time)
    doctor = listed_doctor(appt["doctor"])
    av, tz = bookable(doctor)
    slot = check_bookable(day, label, tz, av, now=now, time_off=time_off_intervals(doctor))
    if slot.start == old_start:
        raise Unprocessable("The appointment is already at this time", code=Code.SAME_SLOT)
    move = claims.Move(appt, slot.start, slot.end, av.buffer_minutes)
    status = rescheduled_status(str(appt["status"]), role, av.requires_confirmation)
    changes = {
        "day": day.isoformat(), "time": label, "timezone": tz.key, "start": slot.start, "end": slot.end,
        "durationMinutes": av.slot_minutes, "bufferMinutes": av.buffer_minutes, "status": status,
        "slotKey": slot_key(appt["doctor"], slot.start), "patientSlotKey": slot_key(appt["patient"], slot.start),
        "reminderOffsets": reminder_offsets(slot.start, settings.reminder_offsets_minutes, now),
        "remindersSent": {}, "updatedAt": now,
    }
    entry = history_entry(status, caller.id, role, now, action="reschedule", fromDay=appt.get("day"),
                          fromTime=appt.get("time"))
    query = {"_id": oid, role: caller.id, "status": appt["status"], "start": appt["start"],
             "updatedAt": appt["updatedAt"]}
    back = {k: appt.get(k) for k in changes if k != "updatedAt"}
    back_query = {"_id": oid, role: caller.id, "status": status, "start": slot.start, "updatedAt": now}
    moved = {"back": True}  # the new cells may go once the appointment is known not to stand on them

    def give_back() -> None:
        if moved["back"]:
            move.give_back()

    def move_back() -> None:
        moved["back"] = False
        store.move(back_query, {**back, "updatedAt": now},
                   history_entry(str(appt["status"]), caller.id, role, now, action="reschedule undone"))
        moved["back"] = True

    try:
        with Compensations("reschedule") as undo:
            undo.step("claim the new cells", give_back)
            move.claim(now)
            undo.step("move the appointment", move_back)
            try:
                updated = store.move(query, changes, entry)
            except store.SlotClash as clash:
                if clash.which == "patient":
                    raise PatientBusy() from None
                raise SlotTaken() from None
            if updated is None:
                raise Conflict("The appointment changed meanwhile; look at it again", code=Code.APPOINTMENT_CHANGED)
            undo.step("move its seats", lambda: claims.move_seats(oid, aware(appt["end"])))
            claims.move_seats(oid, slot.end)
    except PatientBusy:
        if role == PATIENT:  # the patient's own other appointment: theirs to know
            raise
        # Issue 21 item 13: a doctor is not told the patient holds another appointment then;
        # the answer is that of a taken slot (the move's claims were already given back).
        raise SlotTaken() from None
    _cleanup("release the cells the appointment left", move.settle)
    return Outcome(updated, _notices(updated, "rescheduled", caller), Reminders.REARM, previous_start=old_start)
