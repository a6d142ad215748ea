"""A patient's account closed (issue 24 §3, `POST /me/delete`): what the appointments domain
cancels for it, and what its erase removes.

`close_for_patient`: every appointment of the patient that has not started is cancelled as the
patient's own cancel is (the same conditional write, by the patient; the patient's cut-off does
not hold them, since the account is gone), its claims and seats freed, the reminders deleted and
the doctor told through the outbox (`effects`), a paid one refunded by the existing policy
(`holds.refund_if_paid`: a late cancel by the patient is not refunded); each waitlist offer is
declined (the slot goes to the next in line) and every waitlist entry leaves. Each step is one
idempotent conditional write: run again (the privacy sweep resumes a closing a request did not
finish), it finds nothing left to do.

`close_for_doctor`: the waitlist offers of a closed doctor's slots are withdrawn and the entries
waiting for them end (`ended`, as when their days are over: the patient's place is given back and
`GET /appointment/waitlist/my` shows it ended).

`erase_user`: after the grace period, a patient's appointments and waitlist entries are deleted
(they are not among the records the law makes the platform keep; prescriptions are, and name the
appointment by its id only); a doctor's appointments lose the snapshot of their name and contact."""

from __future__ import annotations

from datetime import datetime

from bson import ObjectId

from functions.appointments import holds
from functions.appointments.effects import Outcome, Release, Reminders, run
from functions.appointments.grid import aware, released_key
from functions.appointments.messages import recipient_of
from functions.appointments.status import ACTIVE, CANCELLED, DECLINED, OFFERED, history_entry
from functions.appointments.stores import appointments as store
from functions.appointments.stores import waitlist
from functions.appointments.waitlist_answers import withdraw_for
from functions.core import metrics
from functions.core.metrics import Metric
from functions.core.security import DOCTOR, PATIENT

REASON = "account closed by the patient"
BATCH = 100  # appointments or entries one run handles (the sweep resumes what is left)


def close_for_patient(patient_id: ObjectId, now: datetime) -> dict[str, int]:
    """See the module's docstring: counts of what this run cancelled, declined and removed."""
    cancelled = 0
    items, _ = store.list_now_first("patient", patient_id, list(ACTIVE), now, BATCH)
    for appt in items:
        if aware(appt["start"]) > now and _cancel(appt["_id"], patient_id, now):
            cancelled += 1
    declined = left = 0
    for entry in waitlist.list_for(patient_id):
        offer = entry.get("offer") or {}
        if entry.get("status") == OFFERED and offer.get("appointment") is not None:
            if withdraw_for(PATIENT, patient_id, offer["appointment"], REASON, now):
                declined += 1
            waitlist.finish_offer(entry["_id"], offer["appointment"], DECLINED, now)
        left += waitlist.delete_waiting(entry["_id"], patient_id)
    return {"appointmentsCancelled": cancelled, "offersDeclined": declined, "waitlistLeft": left}


def close_for_doctor(doctor_id: ObjectId, now: datetime) -> dict[str, int]:
    """A doctor's account closed (they have no booking left: the deletion refuses them until
    then): the waitlist offers of their slots are withdrawn (the entries lapse), so no patient
    accepts a booking with them, then the entries still waiting for them end. Idempotent."""
    offers, _ = store.list_now_first("doctor", doctor_id, [OFFERED], now, BATCH)
    withdrawn = sum(withdraw_for(DOCTOR, doctor_id, appt["_id"], "the doctor's account closed", now)
                    for appt in offers)
    ended = sum(waitlist.end_waiting(entry["_id"], now) for entry in waitlist.waiting_for_doctor(doctor_id, BATCH))
    return {"offersWithdrawn": withdrawn, "waitlistEnded": ended}


def _cancel(oid: ObjectId, patient_id: ObjectId, now: datetime) -> bool:
    """The patient's cancel without the cut-off (the filter of `status.transition_filter`)."""
    updated = store.apply_transition(
        {"_id": oid, "patient": patient_id, "status": {"$in": list(ACTIVE)}, "updatedAt": {"$lt": now},
         "start": {"$gte": now}},
        {"status": CANCELLED, "updatedAt": now, "slotKey": released_key(oid), "patientSlotKey": released_key(oid),
         "cancellation": {"by": patient_id, "role": PATIENT, "reason": REASON, "at": now}},
        history_entry(CANCELLED, patient_id, PATIENT, now, reason=REASON))
    if updated is None:
        return False
    metrics.count(Metric.APPOINTMENT_CANCELLED_BY_PATIENT)
    holds.refund_if_paid(updated)
    doctor = recipient_of((updated.get("parties") or {}).get("doctor"), updated["doctor"])
    run(Outcome(updated, [(CANCELLED, doctor)], Reminders.DISARM, release=Release.CLAIMS))
    return True


def erase_user(user_id: ObjectId) -> dict[str, int]:
    """See the module's docstring (idempotent). As a patient: their appointments and waitlist
    entries deleted (their claims need nothing: a cancelled appointment's are freed by its effect,
    claims of past days are dropped by the day sweep). As a doctor: their appointments are their
    patients' records and stay, naming them by id; the snapshot of their name and contact goes."""
    return {"appointments": store.delete_of_patient(user_id), "waitlist": waitlist.delete_of_patient(user_id),
            "doctorSnapshots": store.forget_doctor_snapshot(user_id)}
