"""The appointment status machine, notification texts and API shaping, as pure rules."""

from datetime import UTC, datetime, timedelta

import pytest
from bson import ObjectId

from functions.appointments.messages import booking_kinds, notification_text, when_text
from functions.appointments.status import (
    TRANSITIONS,
    booked_status,
    check_transition,
    participant_role,
    rescheduled_status,
    transition_filter,
)
from functions.appointments.views import appointment_to_api
from functions.core.errors import Conflict, Forbidden, Unprocessable

START = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
BEFORE = START - timedelta(hours=5)
AFTER = START + timedelta(minutes=1)
CUTOFF = 120
STATUSES = ("pending", "confirmed", "completed", "no_show", "cancelled")

# The whole machine: (status, action, role) -> resulting status when legal (time permitting).
LEGAL = {
    ("pending", "confirm", "doctor"): "confirmed",
    ("pending", "cancel", "patient"): "cancelled",
    ("pending", "cancel", "doctor"): "cancelled",
    ("confirmed", "cancel", "patient"): "cancelled",
    ("confirmed", "cancel", "doctor"): "cancelled",
    ("confirmed", "complete", "doctor"): "completed",
    ("confirmed", "no_show", "doctor"): "no_show",
}


def appt(status):
    return {"_id": ObjectId(), "status": status, "start": START, "patient": ObjectId(), "doctor": ObjectId()}


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("action", sorted(TRANSITIONS))
@pytest.mark.parametrize("role", ["patient", "doctor", None])
def test_every_status_action_and_role(status, action, role):
    now = AFTER if action in ("complete", "no_show") else BEFORE
    key = (status, action, role)
    if key in LEGAL:
        assert check_transition(appt(status), action, role, now=now, cancel_cutoff_minutes=CUTOFF).target == LEGAL[key]
    elif role not in TRANSITIONS[action].roles:
        with pytest.raises(Forbidden):
            check_transition(appt(status), action, role, now=now, cancel_cutoff_minutes=CUTOFF)
    else:
        with pytest.raises(Conflict) as err:
            check_transition(appt(status), action, role, now=now, cancel_cutoff_minutes=CUTOFF)
        assert err.value.code == "ILLEGAL_TRANSITION"


@pytest.mark.parametrize("action", ["complete", "no_show"])
def test_complete_and_no_show_wait_for_the_start(action):
    with pytest.raises(Unprocessable) as err:
        check_transition(appt("confirmed"), action, "doctor", now=START - timedelta(seconds=1),
                         cancel_cutoff_minutes=CUTOFF)
    assert err.value.code == "NOT_STARTED"
    assert check_transition(appt("confirmed"), action, "doctor", now=START, cancel_cutoff_minutes=CUTOFF)


def test_the_patient_cancel_cutoff_is_inclusive_and_doctors_are_exempt():
    at_cutoff, past_cutoff = START - timedelta(minutes=CUTOFF), START - timedelta(minutes=CUTOFF - 1)
    assert check_transition(appt("pending"), "cancel", "patient", now=at_cutoff, cancel_cutoff_minutes=CUTOFF)
    with pytest.raises(Unprocessable) as err:
        check_transition(appt("pending"), "cancel", "patient", now=past_cutoff, cancel_cutoff_minutes=CUTOFF)
    assert err.value.code == "CANCEL_CUTOFF"
    assert check_transition(appt("confirmed"), "cancel", "doctor", now=AFTER, cancel_cutoff_minutes=CUTOFF)


def test_the_atomic_filter_encodes_the_same_rules():
    oid, actor = ObjectId(), ObjectId()
    cancel = transition_filter(oid, TRANSITIONS["cancel"], "patient", actor, now=BEFORE, cancel_cutoff_minutes=CUTOFF)
    assert cancel == {"_id": oid, "patient": actor, "status": {"$in": ["pending_payment", "pending", "confirmed"]},
                      "start": {"$gte": BEFORE + timedelta(minutes=CUTOFF)}, "updatedAt": {"$lt": BEFORE}}
    done = transition_filter(oid, TRANSITIONS["complete"], "doctor", actor, now=AFTER, cancel_cutoff_minutes=CUTOFF)
    assert done == {"_id": oid, "doctor": actor, "status": {"$in": ["confirmed"]}, "start": {"$lte": AFTER},
                    "updatedAt": {"$lt": AFTER}}  # exclusive: not changed at or after this request's arrival
    by_doctor = transition_filter(oid, TRANSITIONS["cancel"], "doctor", actor, now=AFTER, cancel_cutoff_minutes=CUTOFF)
    assert "start" not in by_doctor


def test_participant_role():
    a = appt("pending")
    assert participant_role(a, a["patient"]) == "patient"
    assert participant_role(a, a["doctor"]) == "doctor"
    assert participant_role(a, ObjectId()) is None


def test_times_are_written_in_the_recipients_zone():
    assert when_text(START, "Asia/Kolkata") == "Tue 3 Mar 2026, 14:30 IST"
    assert when_text(START, "America/New_York") == "Tue 3 Mar 2026, 04:00 EST"
    assert when_text(START, "Not/AZone") == "Tue 3 Mar 2026, 09:00 UTC"


KINDS = ["booked", "requested", "booked_confirmed", "new_appointment", "confirmed", "cancelled", "rescheduled",
         "reminder"]


@pytest.mark.parametrize("kind", KINDS)
def test_notification_texts_carry_only_the_event_the_time_and_a_link_to_the_frontends_appointments_page(kind):
    subject, text = notification_text(kind, START, "Asia/Kolkata", "https://app.example/",
                                      previous_start=START - timedelta(days=1))
    assert subject.startswith("CureConnect: ")
    assert "Tue 3 Mar 2026, 14:30 IST" in text
    # the frontend has no page per appointment: its list carries the Join Call button
    assert text.endswith("Details: https://app.example/appointments")
    assert len(text) <= 320  # at most two SMS segments


def test_a_booking_starts_confirmed_unless_the_doctor_requires_confirmation():
    assert booked_status(requires_confirmation=False) == "confirmed"
    assert booked_status(requires_confirmation=True) == "pending"


@pytest.mark.parametrize(("status", "notices"), [
    ("confirmed", ("booked_confirmed", "new_appointment")), ("pending", ("booked", "requested"))])
def test_a_confirmed_booking_says_confirmed_once_and_a_pending_one_awaits_the_doctor(status, notices):
    to_patient, to_doctor = booking_kinds(status)
    assert (to_patient, to_doctor) == notices
    patient_text = notification_text(to_patient, START, "UTC", "https://app.example")[1]
    doctor_text = notification_text(to_doctor, START, "UTC", "https://app.example")[1]
    if status == "confirmed":
        assert "confirmed" in patient_text and "confirmed" in doctor_text
        assert "awaits" not in patient_text and "request" not in doctor_text
    else:
        assert "awaits the doctor's confirmation" in patient_text and "request" in doctor_text


@pytest.mark.parametrize(("status", "role", "requires", "after"), [
    ("confirmed", "patient", False, "confirmed"),  # nobody confirms: the move stays confirmed
    ("confirmed", "patient", True, "pending"),     # the doctor confirms the new time
    ("confirmed", "doctor", True, "confirmed"),    # the doctor's own move
    ("pending", "patient", False, "pending"),      # an appointment from before the setting: as it was
    ("pending_payment", "patient", True, "pending_payment"),
])
def test_a_reschedule_keeps_the_status_unless_a_patient_moves_it_for_a_doctor_who_confirms(status, role, requires,
                                                                                            after):
    assert rescheduled_status(status, role, requires) == after


def test_list_items_carry_what_the_frontend_cards_need_and_never_snapshotted_contacts():
    doc = {**appt("pending"), "symptoms": "cough", "description": "d", "roomId": "r", "aiSuggestions": "a",
           "statusHistory": [], "day": "2026-03-03", "time": "14:30",
           "parties": {"patient": {"name": "P", "contact": "p@x"}, "doctor": {"name": "D", "speciality": "gp",
                                                                           "contact": "d@x"}}}
    short, full = appointment_to_api(doc, full=False), appointment_to_api(doc)
    # the cards show the symptoms and the Join Call button needs the room id
    assert short["symptoms"] == "cough" and short["roomId"] == "r"
    assert "aiSuggestions" not in short and "statusHistory" not in short
    assert short["patient"] == {"_id": doc["patient"], "name": "P"}
    # the doctor's list names the patient's current contact, given by the caller
    assert appointment_to_api(doc, full=False, patient_contact="p@new")["patient"]["contact"] == "p@new"
    assert short["doctor"] == {"_id": doc["doctor"], "name": "D", "speciality": "gp"}
    assert (full["symptoms"], full["roomId"], full["aiSuggestions"]) == ("cough", "r", "a")
    assert "contact" not in str(full) and "slotKey" not in full
