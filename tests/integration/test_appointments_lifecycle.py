"""The status machine through the routes, and atomic rescheduling."""

from datetime import timedelta

import pytest
from bson import ObjectId

from tests.appointments_support import (
    body,
    book,
    concurrently,
    doctor,
    patient,
    put,
    utc,
)
from tests.factories import json_headers, make_user

PATHS = {"confirm": "confirm", "complete": "complete", "no_show": "no-show", "cancel": "cancel"}


def booked(client, pat, doc, **kw):
    response = book(client, pat, doc, **kw)
    assert response.status_code == 201, response.body
    return body(response)["appointment"]


def act(client, who, appt_id, action, reason="Change of plans"):
    payload = {"reason": reason} if action == "cancel" else None
    return put(client, who, f"/appointment/{appt_id}/{PATHS[action]}", payload)


@pytest.fixture
def scene(api, db):
    """A doctor who confirms bookings, a patient and a pending appointment tomorrow 09:00 IST
    (03:30 UTC)."""
    doc, pat = doctor(availability={"requiresConfirmation": True}), patient()
    return {"doctor": doc, "patient": pat, "appt": booked(api, pat, doc), "db": db}


def bring_to(client, scene, status, clock):
    appt_id, doc, pat = scene["appt"]["_id"], scene["doctor"], scene["patient"]
    if status in ("confirmed", "completed", "no_show"):
        assert act(client, doc, appt_id, "confirm").status_code == 200
    if status in ("completed", "no_show"):
        clock.set(utc(2026, 3, 3, 3, 35))
        assert act(client, doc, appt_id, "complete" if status == "completed" else "no_show").status_code == 200
    if status == "cancelled":
        assert act(client, pat, appt_id, "cancel").status_code == 200


# (from status, action, actor) -> expected HTTP status; actors: patient, doctor
LEGAL = [
    ("pending", "confirm", "doctor"),
    ("pending", "cancel", "patient"),
    ("pending", "cancel", "doctor"),
    ("confirmed", "cancel", "patient"),
    ("confirmed", "cancel", "doctor"),
]
ILLEGAL = [
    ("pending", "complete", "doctor", 409),
    ("pending", "no_show", "doctor", 409),
    ("confirmed", "confirm", "doctor", 409),
    ("completed", "confirm", "doctor", 409),
    ("completed", "cancel", "doctor", 409),
    ("completed", "cancel", "patient", 409),
    ("completed", "no_show", "doctor", 409),
    ("no_show", "complete", "doctor", 409),
    ("no_show", "cancel", "doctor", 409),
    ("cancelled", "confirm", "doctor", 409),
    ("cancelled", "cancel", "patient", 409),
    ("cancelled", "complete", "doctor", 409),
    ("pending", "confirm", "patient", 403),
    ("confirmed", "complete", "patient", 403),
    ("confirmed", "no_show", "patient", 403),
]


@pytest.mark.parametrize(("source", "action", "actor"), LEGAL)
def test_legal_transitions_before_the_start(api, scene, clock, source, action, actor):
    bring_to(api, scene, source, clock)
    response = act(api, scene[actor], scene["appt"]["_id"], action)
    assert response.status_code == 200, response.body
    appt = body(response)["appointment"]
    expected = {"confirm": "confirmed", "cancel": "cancelled"}[action]
    assert appt["status"] == expected
    assert appt["statusHistory"][-1]["status"] == expected and appt["statusHistory"][-1]["role"] == actor


@pytest.mark.parametrize("action", ["complete", "no_show"])
def test_complete_and_no_show_only_after_the_start(api, scene, clock, action):
    appt_id, doc = scene["appt"]["_id"], scene["doctor"]
    act(api, doc, appt_id, "confirm")
    early = act(api, doc, appt_id, action)
    assert early.status_code == 422 and body(early)["code"] == "NOT_STARTED"
    clock.set(utc(2026, 3, 3, 3, 30))
    done = act(api, doc, appt_id, action)
    assert done.status_code == 200
    assert body(done)["appointment"]["status"] == {"complete": "completed", "no_show": "no_show"}[action]
    assert [h["status"] for h in body(done)["appointment"]["statusHistory"]] == [
        "pending", "confirmed", {"complete": "completed", "no_show": "no_show"}[action]]


@pytest.mark.parametrize(("source", "action", "actor", "status"), ILLEGAL)
def test_illegal_transitions_are_refused_and_change_nothing(api, scene, clock, source, action, actor, status):
    bring_to(api, scene, source, clock)
    before = scene["db"].appointments.find_one({"_id": ObjectId(scene["appt"]["_id"])})
    response = act(api, scene[actor], scene["appt"]["_id"], action)
    assert response.status_code == status, response.body
    if status == 409:
        assert body(response)["code"] == "ILLEGAL_TRANSITION"
    assert scene["db"].appointments.find_one({"_id": before["_id"]}) == before


def test_strangers_get_404_and_admins_403_for_transitions(api, scene):
    appt_id = scene["appt"]["_id"]
    assert act(api, patient(), appt_id, "cancel").status_code == 404
    assert act(api, doctor(), appt_id, "confirm").status_code == 404
    assert act(api, make_user("admin"), appt_id, "confirm").status_code == 403
    assert act(api, scene["doctor"], str(ObjectId()), "confirm").status_code == 404
    assert act(api, scene["doctor"], "nope", "confirm").status_code == 404


def test_a_patient_cannot_cancel_inside_the_cutoff_but_the_doctor_can(api, scene, clock):
    # CANCEL_CUTOFF_MINUTES = 120; the start is 03:30 UTC
    appt_id = scene["appt"]["_id"]
    clock.set(utc(2026, 3, 3, 1, 31))
    late = act(api, scene["patient"], appt_id, "cancel")
    assert late.status_code == 422 and body(late)["code"] == "CANCEL_CUTOFF"
    assert act(api, scene["doctor"], appt_id, "cancel").status_code == 200


def test_a_patient_can_cancel_exactly_at_the_cutoff(api, scene, clock):
    clock.set(utc(2026, 3, 3, 1, 30))
    assert act(api, scene["patient"], scene["appt"]["_id"], "cancel").status_code == 200


def test_cancel_needs_a_reason(api, scene):
    response = put(api, scene["patient"], f"/appointment/{scene['appt']['_id']}/cancel", {})
    assert response.status_code == 400


def test_delete_is_a_soft_cancel_that_keeps_the_record(api, scene):
    appt_id = scene["appt"]["_id"]
    response = api.http.delete(f"/api/v1/appointment/{appt_id}", headers=json_headers(scene["patient"]))
    assert response.status_code == 200
    assert body(response)["message"] == "Appointment cancelled successfully"
    stored = scene["db"].appointments.find_one({"_id": ObjectId(appt_id)})
    assert stored["status"] == "cancelled" and stored["cancellation"]["role"] == "patient"
    assert stored["slotKey"] == f"released|{appt_id}"
    again = api.http.delete(f"/api/v1/appointment/{appt_id}", headers=json_headers(scene["patient"]))
    assert again.status_code == 409


# ---------------------------------------------------------------- reschedule


def test_reschedule_moves_the_appointment_and_frees_the_old_slot(api, scene):
    doc, pat, appt_id = scene["doctor"], scene["patient"], scene["appt"]["_id"]
    act(api, doc, appt_id, "confirm")
    response = put(api, pat, f"/appointment/{appt_id}/reschedule", {"day": "2026-03-04", "time": "14:00"})
    assert response.status_code == 200, response.body
    moved = body(response)["appointment"]
    assert (moved["day"], moved["time"], moved["start"]) == ("2026-03-04", "14:00", "2026-03-04T08:30:00.000Z")
    assert moved["status"] == "pending"  # the doctor confirms the new time again
    assert moved["statusHistory"][-1]["action"] == "reschedule"
    assert moved["statusHistory"][-1]["fromTime"] == "09:00"
    offered = body(api.http.get(f"/api/v1/appointment/slots/{doc['_id']}/2026-03-03"))["availableSlots"]
    assert "09:00" in offered
    assert book(api, patient(), doc, day="2026-03-03", time="09:00").status_code == 201


def test_a_doctor_reschedule_keeps_the_confirmation(api, scene):
    doc, appt_id = scene["doctor"], scene["appt"]["_id"]
    act(api, doc, appt_id, "confirm")
    moved = body(put(api, doc, f"/appointment/{appt_id}/reschedule", {"day": "2026-03-03", "time": "9:30"}))
    assert moved["appointment"]["status"] == "confirmed" and moved["appointment"]["time"] == "09:30"


def test_reschedule_into_a_taken_slot_changes_nothing(api, scene):
    # Given another patient holds 10:00
    doc, pat, appt_id = scene["doctor"], scene["patient"], scene["appt"]["_id"]
    booked(api, patient(), doc, time="10:00")
    before = scene["db"].appointments.find_one({"_id": ObjectId(appt_id)})
    # When our patient tries to move there
    response = put(api, pat, f"/appointment/{appt_id}/reschedule", {"day": "2026-03-03", "time": "10:00"})
    # Then 409 and the appointment still holds its old slot, which nobody else can take
    assert response.status_code == 409 and body(response)["code"] == "SLOT_TAKEN"
    assert scene["db"].appointments.find_one({"_id": before["_id"]}) == before
    assert book(api, patient(), doc, time="09:00").status_code == 409


def test_a_doctor_moving_a_patient_onto_their_other_appointment_learns_only_that_the_slot_is_taken(api, scene):
    # Given our patient also holds 10:00 with another doctor, and another patient holds 11:00
    # with our doctor (issue 21 item 13: PATIENT_BUSY told a doctor about the other appointment)
    doc, pat, appt_id = scene["doctor"], scene["patient"], scene["appt"]["_id"]
    booked(api, pat, doctor(), time="10:00")
    booked(api, patient(), doc, time="11:00")
    before = scene["db"].appointments.find_one({"_id": ObjectId(appt_id)})
    # When the doctor moves our patient's appointment to 10:00, and to the taken 11:00
    busy = put(api, doc, f"/appointment/{appt_id}/reschedule", {"day": "2026-03-03", "time": "10:00"})
    taken = put(api, doc, f"/appointment/{appt_id}/reschedule", {"day": "2026-03-03", "time": "11:00"})
    # Then both answers are the same taken slot, and nothing moved
    assert busy.status_code == taken.status_code == 409
    assert (body(busy)["code"], body(busy)["message"]) == (body(taken)["code"], body(taken)["message"])
    assert body(busy)["code"] == "SLOT_TAKEN"
    assert scene["db"].appointments.find_one({"_id": before["_id"]}) == before
    # and the patient moving there herself is told it is her own other appointment
    own = put(api, pat, f"/appointment/{appt_id}/reschedule", {"day": "2026-03-03", "time": "10:00"})
    assert own.status_code == 409 and body(own)["code"] == "PATIENT_BUSY"
    assert scene["db"].appointments.find_one({"_id": before["_id"]}) == before


@pytest.mark.parametrize(("payload", "status"), [
    ({"day": "2026-03-03", "time": "09:00"}, 422),   # same slot
    ({"day": "2026-03-03", "time": "09:10"}, 422),   # off grid
    ({"day": "2030-02-31", "time": "09:00"}, 400),
    ({"day": "2026-03-03"}, 400),
])
def test_reschedule_validation(api, scene, payload, status):
    response = put(api, scene["patient"], f"/appointment/{scene['appt']['_id']}/reschedule", payload)
    assert response.status_code == status, response.body


def test_reschedule_rules_for_status_cutoff_and_strangers(api, scene, clock):
    appt_id, pat = scene["appt"]["_id"], scene["patient"]
    target = {"day": "2026-03-05", "time": "11:00"}
    assert put(api, patient(), f"/appointment/{appt_id}/reschedule", target).status_code == 404
    clock.set(utc(2026, 3, 3, 2, 0))
    late = put(api, pat, f"/appointment/{appt_id}/reschedule", target)
    assert late.status_code == 422 and body(late)["code"] == "CANCEL_CUTOFF"
    act(api, scene["doctor"], appt_id, "cancel")
    assert put(api, scene["doctor"], f"/appointment/{appt_id}/reschedule", target).status_code == 409


def test_twenty_concurrent_reschedules_into_overlapping_slots_leave_exactly_one_there(api, db, clock):
    # Given 20 patients of one doctor with 60-minute slots, each holding an appointment on a
    # different day, who all move to the same afternoon, at starts 60 minutes apart or the same
    doc = doctor(availability={"weeklyHours": None, "slotMinutes": 60})
    days = [f"2026-03-{d:02d}" for d in range(3, 23)]
    movers = [(p, booked(api, p, doc, day=day, time="09:00")) for p, day in ((patient(), d) for d in days)]
    # When they all reschedule into 2026-03-24 15:00 at once (the doctor's claims overlap)
    responses = concurrently(*[lambda p=p, a=a: put(api, p, f"/appointment/{a['_id']}/reschedule",
                                                    {"day": "2026-03-24", "time": "15:00"}) for p, a in movers])
    # Then exactly one moved; the others are refused and still hold their original slots
    assert sorted(r.status_code for r in responses) == [200] + [409] * 19
    on_target = list(db.appointments.find({"doctor": doc["_id"], "day": "2026-03-24"}))
    assert len(on_target) == 1
    assert db.appointments.count_documents({"doctor": doc["_id"], "time": "09:00"}) == 19
    # and the winner's old day is free again while the losers' days are not
    winner = next(a for p, a in movers if a["_id"] == str(on_target[0]["_id"]))
    assert book(api, patient(), doc, day=winner["day"], time="09:00").status_code == 201
    loser = next(a for p, a in movers if a["_id"] != winner["_id"])
    assert book(api, patient(), doc, day=loser["day"], time="09:00").status_code == 409


@pytest.mark.parametrize(("first", "second"), [
    (("patient", "cancel"), ("doctor", "confirm")),
    (("doctor", "cancel"), ("doctor", "confirm")),
    (("patient", "cancel"), ("patient", "reschedule")),
    (("doctor", "confirm"), ("patient", "reschedule")),
    (("doctor", "confirm"), ("doctor", "reschedule")),
])
def test_two_transitions_sent_at_the_same_moment_one_applies_and_the_other_is_409(api, scene, first, second):
    # Given a pending appointment
    appt_id = scene["appt"]["_id"]

    def send(who, action):
        user, path = scene[who], f"/appointment/{appt_id}/{PATHS.get(action, action)}"
        payload = {"day": "2026-03-05", "time": "11:00"} if action == "reschedule" else \
            {"reason": "plans changed"} if action == "cancel" else None
        return put(api, user, path, payload, then_tick=False)

    # When both are sent at the same moment
    responses = concurrently(lambda: send(*first), lambda: send(*second))
    # Then exactly one applies, the other is a 409, and the history holds only what happened
    assert sorted(r.status_code for r in responses) == [200, 409]
    applied = next(r for r in responses if r.status_code == 200)
    stored = scene["db"].appointments.find_one({"_id": ObjectId(appt_id)})
    assert stored["status"] == body(applied)["appointment"]["status"]
    assert len(stored["statusHistory"]) == 2


def test_completion_is_allowed_long_after_the_start(api, scene, clock):
    act(api, scene["doctor"], scene["appt"]["_id"], "confirm")
    clock.advance(days=3)
    clock.advance(minutes=int(timedelta(hours=1).total_seconds() // 60))
    assert act(api, scene["doctor"], scene["appt"]["_id"], "complete").status_code == 200
