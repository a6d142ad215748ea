"""POST /appointment/new: validation against the slot grid and atomic, race-free booking."""

import pytest
from bson import ObjectId

from tests.appointments_support import (
    body,
    book,
    concurrently,
    doctor,
    patient,
)


def test_booking_creates_a_confirmed_appointment_at_the_normalized_time(api, db):
    # Given an approved doctor in Asia/Kolkata (UTC+05:30) who does not require confirmation (the default)
    doc, pat = doctor(), patient()
    # When the patient books "9:00" tomorrow
    response = book(api, pat, doc, day="2026-03-03", time="9:00")
    # Then it is a 201 holding 09:00 local = 03:30 UTC, confirmed at once
    assert response.status_code == 201, response.body
    appt = body(response)["appointment"]
    assert (appt["day"], appt["time"], appt["status"]) == ("2026-03-03", "09:00", "confirmed")
    assert appt["start"] == "2026-03-03T03:30:00.000Z" and appt["end"] == "2026-03-03T04:00:00.000Z"
    assert appt["doctor"] == {"_id": str(doc["_id"]), "name": doc["name"], "speciality": "general"}
    assert appt["patient"]["_id"] == str(pat["_id"])
    assert len(appt["roomId"]) >= 20
    stored = db.appointments.find_one({"_id": ObjectId(appt["_id"])})
    assert stored["slotKey"] == f"{doc['_id']}|2026-03-03T03:30Z"
    assert [(h["status"], h["action"]) for h in stored["statusHistory"]] == [("confirmed", "book")]


def test_ai_suggestions_are_stored(api, db):
    response = book(api, patient(), doctor(), aiSuggestions="Hydrate")
    assert response.status_code == 201
    assert db.appointments.find_one()["aiSuggestions"] == "Hydrate"


@pytest.mark.parametrize(("day", "time", "status", "code"), [
    ("2026-03-03", "09:15", 422, "NOT_A_SLOT"),        # off the 30-minute grid
    ("2026-03-03", "03:17", 422, "NOT_A_SLOT"),        # outside working hours
    ("2026-03-03", "17:00", 422, "NOT_A_SLOT"),        # the day ends at 17:00: last slot 16:30
    ("2026-03-01", "10:00", 422, "SLOT_IN_PAST"),
    ("2026-03-02", "09:00", 422, "SLOT_IN_PAST"),      # today 09:00 IST is 03:30 UTC: gone
    ("2026-03-02", "16:00", 422, "TOO_SOON"),          # 16:00 IST = 10:30 UTC: inside the 60-minute notice
    ("2026-04-02", "09:00", 422, "BEYOND_HORIZON"),    # 31 days ahead
    ("2030-02-31", "09:00", 400, "INVALID_DATE"),      # D-13: impossible date
    ("2026-3-3", "09:00", 400, "VALIDATION_FAILED"),
    ("2026-03-03", "9:5", 400, "VALIDATION_FAILED"),
    ("2026-03-03", "24:00", 400, "VALIDATION_FAILED"),
])
def test_only_offered_slots_can_be_booked(api, day, time, status, code):
    response = book(api, patient(), doctor(), day=day, time=time)
    assert response.status_code == status, response.body
    assert body(response)["code"] == code


def test_the_last_slot_inside_the_notice_window_boundary_is_bookable(api):
    # 16:30 IST = 11:00 UTC = now + exactly 60 minutes
    assert book(api, patient(), doctor(), day="2026-03-02", time="16:30").status_code == 201


def test_a_slot_inside_the_doctors_time_off_is_refused(api):
    from tests.factories import json_headers

    doc = doctor()
    api.http.post("/api/v1/doctor/time-off", headers=json_headers(doc),
                  body=b'{"start": "2026-03-03T09:00:00", "end": "2026-03-03T12:00:00", "reason": "conference"}')
    response = book(api, patient(), doc, time="11:30")
    assert response.status_code == 422
    assert body(response)["code"] == "DOCTOR_AWAY"


def test_unapproved_unknown_and_non_doctors_are_not_bookable(api):
    pat = patient()
    for target in (doctor(approved=False), {"_id": ObjectId()}, patient(), doctor(active=False)):
        response = book(api, pat, target)
        assert response.status_code == 404, target
        assert body(response)["code"] == "NOT_FOUND"


def test_a_patient_cannot_book_themselves(api):
    pat = patient()
    response = book(api, pat, pat)
    assert response.status_code == 422
    assert body(response)["code"] == "SELF_BOOKING"


def test_only_patients_book(api):
    doc = doctor()
    assert book(api, doctor(), doc).status_code == 403
    assert book(api, make_admin(), doc).status_code == 403
    anonymous = api.http.post("/api/v1/appointment/new", headers={"Content-Type": "application/json"}, body=b"{}")
    assert anonymous.status_code == 401


def make_admin():
    from tests.factories import make_user

    return make_user("admin")


def test_missing_and_unknown_fields_are_400(api):
    from tests.factories import json_headers

    response = api.http.post("/api/v1/appointment/new", headers=json_headers(patient()),
                             body=b'{"doctor": "x", "status": "confirmed"}')
    assert response.status_code == 400
    fields = {e["field"] for e in body(response)["errors"]}
    assert {"doctor", "description", "symptoms", "day", "time", "status"} <= fields


def test_a_taken_slot_is_409_whatever_the_spelling_of_the_time(api):
    # Given a booked 09:00 slot
    doc = doctor()
    assert book(api, patient(), doc, time="09:00").status_code == 201
    # When another patient asks for "9:00" (D-13: the reference treated it as another slot)
    response = book(api, patient(), doc, time="9:00")
    # Then the slot is taken
    assert response.status_code == 409
    assert body(response)["code"] == "SLOT_TAKEN"


def test_a_patient_cannot_hold_two_appointments_at_the_same_instant(api):
    pat = patient()
    assert book(api, pat, doctor(), time="10:00").status_code == 201
    response = book(api, pat, doctor(), time="10:00")
    assert response.status_code == 409
    assert body(response)["code"] == "PATIENT_BUSY"


def test_a_slot_is_offered_again_once_its_appointment_is_cancelled(api):
    from tests.appointments_support import put

    doc, first = doctor(), patient()
    appt = body(book(api, first, doc, time="11:00"))["appointment"]
    assert put(api, first, f"/appointment/{appt['_id']}/cancel", {"reason": "feeling better"}).status_code == 200
    assert book(api, patient(), doc, time="11:00").status_code == 201
    assert book(api, first, doc, time="11:30").status_code == 201  # the patient's own key was released too


def test_twenty_concurrent_bookings_of_one_slot_give_exactly_one_appointment(api, db):
    """The database decides (claims keyed by `_id`), not a check-then-insert."""
    # Given 20 patients who all want tomorrow 10:00 with the same doctor
    doc = doctor()
    patients = [patient() for _ in range(20)]
    # When they all book at once, each its own request through the app
    responses = concurrently(*[lambda p=p: book(api, p, doc, time="10:00") for p in patients])
    # Then exactly one wins and the other 19 get a conflict
    assert sorted(r.status_code for r in responses) == [201] + [409] * 19
    assert db.appointments.count_documents({"doctor": doc["_id"]}) == 1


@pytest.fixture
def undelivered(monkeypatch):
    """Effects are recorded and not delivered yet (as under make run before its worker polls, or
    on AWS before the worker Lambda runs): the kick is a no-op. A seam rather than
    OUTBOX_DELIVERY: concurrent requests through chalice's test client swap os.environ for a copy."""
    from functions.core import outbox

    monkeypatch.setattr(outbox, "kick", lambda: None)


def test_a_slot_cancelled_a_moment_ago_is_booked_again_before_the_worker_frees_its_claims(api, db, undelivered):
    from tests.appointments_support import get, put

    # Given a booking cancelled by its patient, the release of its claims still waiting in the outbox
    doc, first = doctor(), patient()
    appt = body(book(api, first, doc, time="10:00"))["appointment"]
    assert put(api, first, f"/appointment/{appt['_id']}/cancel", {"reason": "x"}).status_code == 200
    assert db.appointment_claims.count_documents({"appt": ObjectId(appt["_id"])}) > 0
    # And the slots list already shows 10:00 free
    assert "10:00" in body(get(api, first, f"/appointment/slots/{doc['_id']}/2026-03-03"))["availableSlots"]
    # When the same patient and 19 others book 10:00 at once
    patients = [first] + [patient() for _ in range(19)]
    responses = concurrently(*[lambda p=p: book(api, p, doc, time="10:00") for p in patients])
    # Then exactly one booking stands, the others are told the slot is taken
    assert sorted(r.status_code for r in responses) == [201] + [409] * 19
    assert {body(r)["code"] for r in responses if r.status_code == 409} == {"SLOT_TAKEN"}
    assert db.appointments.count_documents({"doctor": doc["_id"], "status": {"$ne": "cancelled"}}) == 1
    # And the cells are the winner's alone
    winner = next(body(r)["appointment"]["_id"] for r in responses if r.status_code == 201)
    assert {c["appt"] for c in db.appointment_claims.find({"_id": {"$regex": f"^{doc['_id']}"}})} == {
        ObjectId(winner)}


def test_a_live_booking_keeps_its_slot_against_a_second(api, db, undelivered):
    # Given a live booking at 10:00
    doc = doctor()
    assert book(api, patient(), doc, time="10:00").status_code == 201
    # When another patient books it
    response = book(api, patient(), doc, time="10:00")
    # Then 409 SLOT_TAKEN, and one appointment
    assert (response.status_code, body(response)["code"]) == (409, "SLOT_TAKEN")
    assert db.appointments.count_documents({"doctor": doc["_id"]}) == 1


def hhmm(minutes):
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def test_twenty_concurrent_overlapping_bookings_with_different_starts_give_exactly_one(api, db):
    # Given 20 doctors whose two-hour slots start 5 minutes apart (09:00, 09:05 ... 10:35), so
    # that every slot overlaps every other in absolute time, and one patient
    pat, starts = patient(), [9 * 60 + 5 * i for i in range(20)]
    doctors = [doctor(availability={"weeklyHours": {"tuesday": [{"start": hhmm(s), "end": hhmm(s + 120)}]},
                                    "slotMinutes": 120}) for s in starts]
    # When the patient books all twenty at once, each its own request through the app
    responses = concurrently(*[lambda d=d, s=s: book(api, pat, d, time=hhmm(s))
                               for d, s in zip(doctors, starts, strict=True)])
    # Then exactly one is booked: a patient never holds two overlapping appointments
    codes = sorted(r.status_code for r in responses)
    assert codes == [201] + [409] * 19
    assert {body(r)["code"] for r in responses if r.status_code == 409} == {"PATIENT_BUSY"}
    assert db.appointments.count_documents({"patient": pat["_id"]}) == 1


def test_a_grid_change_never_puts_a_booking_on_top_of_an_existing_one(api, db):
    # Given a 10:30 booking on the doctor's 30-minute grid
    doc = doctor()
    assert book(api, patient(), doc, time="10:30").status_code == 201
    # When the doctor switches to 60-minute slots and someone crafts a booking for 10:00
    db.users.update_one({"_id": doc["_id"]}, {"$set": {"availability": {"weeklyHours": None, "slotMinutes": 60}}})
    response = book(api, patient(), doc, time="10:00")
    # Then it is refused: 10:00-11:00 overlaps the 10:30 appointment
    assert response.status_code == 409 and body(response)["code"] == "SLOT_TAKEN"
    assert book(api, patient(), doc, time="11:00").status_code == 201


def test_the_buffer_after_an_appointment_is_the_doctors_too(api, db):
    # Given a doctor with 30-minute slots and a 15-minute buffer, booked at 09:00
    doc = doctor(availability={"weeklyHours": None, "slotMinutes": 30, "bufferMinutes": 15})
    assert book(api, patient(), doc, time="09:00").status_code == 201
    # When the grid later changes to no buffer and a booking for 09:30 comes in
    db.users.update_one({"_id": doc["_id"]}, {"$set": {"availability.bufferMinutes": 0}})
    # Then 09:30 falls inside the first appointment's buffer and is refused
    assert book(api, patient(), doc, time="09:30").status_code == 409


def test_appointments_booked_before_claims_get_them_from_ensure_indexes_once(api, db):
    # Given an active appointment stored by the first version (no claims), 60 minutes at 10:00 IST
    from functions.registry import ensure_indexes
    from tests.appointments_support import utc

    doc, pat = doctor(), patient()
    start = utc(2026, 3, 3, 4, 30)
    db.appointments.insert_one({"patient": pat["_id"], "doctor": doc["_id"], "status": "confirmed", "start": start,
                                "end": utc(2026, 3, 3, 5, 30), "slotKey": f"{doc['_id']}|legacy",
                                "patientSlotKey": f"{pat['_id']}|legacy", "roomId": "legacy-room",
                                "updatedAt": utc(2026, 3, 1)})
    # When ensure-indexes runs (twice: it is idempotent)
    ensure_indexes(db)
    claims = db.appointment_claims.count_documents({})
    ensure_indexes(db)
    # Then the appointment holds its 12 doctor and 12 patient cells and its two limit seats
    # (with the doctor, overall), and nobody books over it
    assert claims == db.appointment_claims.count_documents({}) == 24 + 2
    assert db.appointment_claims.count_documents({"kind": "seat"}) == 2
    refused = book(api, patient(), doc, time="10:30")
    assert refused.status_code == 409 and body(refused)["code"] == "SLOT_TAKEN"
    busy = book(api, pat, doctor(), time="10:30")
    assert busy.status_code == 409 and body(busy)["code"] == "PATIENT_BUSY"


def test_cancelling_releases_every_claim_in_one_go(api, db):
    # Given a booked appointment
    doc, pat = doctor(), patient()
    appt = body(book(api, pat, doc, time="10:00"))["appointment"]
    assert db.appointment_claims.count_documents({"appt": ObjectId(appt["_id"])}) == 12 + 2  # cells, seats
    # When the patient cancels it
    from tests.appointments_support import put

    assert put(api, pat, f"/appointment/{appt['_id']}/cancel", {"reason": "better"}).status_code == 200
    # Then its cells are free for anyone
    assert db.appointment_claims.count_documents({}) == 0
    assert book(api, patient(), doc, time="10:00").status_code == 201


def test_a_patient_holds_at_most_two_upcoming_appointments_per_doctor_and_six_overall(api, db, clock):
    from tests.appointments_support import put

    # Given a patient with two upcoming appointments with one doctor
    pat, doc = patient(), doctor()
    first = body(book(api, pat, doc, day="2026-03-03", time="09:00"))["appointment"]
    assert book(api, pat, doc, day="2026-03-04", time="09:00").status_code == 201
    # When they book a third with that doctor: refused with a clear code
    third = book(api, pat, doc, day="2026-03-05", time="09:00")
    assert third.status_code == 409 and body(third)["code"] == "TOO_MANY_WITH_DOCTOR"
    # And cancelling one frees a place
    assert put(api, pat, f"/appointment/{first['_id']}/cancel", {"reason": "moved"}).status_code == 200
    assert book(api, pat, doc, day="2026-03-05", time="09:00").status_code == 201
    # Given four more with other doctors (six upcoming in all), a seventh is refused
    for day in ("2026-03-06", "2026-03-07", "2026-03-08", "2026-03-09"):
        assert book(api, pat, doctor(), day=day, time="09:00").status_code == 201
    seventh = book(api, pat, doctor(), day="2026-03-10", time="09:00")
    assert seventh.status_code == 409 and body(seventh)["code"] == "TOO_MANY_APPOINTMENTS"
    # But appointments already past no longer count
    from tests.appointments_support import utc

    clock.set(utc(2026, 3, 4, 12, 0))
    assert book(api, pat, doctor(), day="2026-03-10", time="09:00").status_code == 201
