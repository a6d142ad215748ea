"""The abuse limits (issue 8): at most MAX_ACTIVE_PER_DOCTOR (2) upcoming appointments per patient
with one doctor and MAX_ACTIVE_PER_PATIENT (6) overall, enforced by the database (limit seats
keyed by `_id`), so a burst of concurrent bookings of different slots cannot exceed them."""

from bson import ObjectId

from tests.appointments_support import body, book, concurrently, doctor, patient, put, tick, utc

# Twenty different 30-minute slots of the default grid (09:00-17:00 Asia/Kolkata, weekdays), none
# overlapping another: ten on Tuesday and ten on Wednesday morning.
SLOTS = [(day, f"{9 + i // 2:02d}:{30 * (i % 2):02d}") for day in ("2026-03-03", "2026-03-04") for i in range(10)]


def _codes(responses):
    return sorted(r.status_code for r in responses), {body(r)["code"] for r in responses if r.status_code == 409}


def _stored(db, pat):
    """How many appointments the patient has, and how many claims (cells, seats) belong to none of
    them: what a refused booking would have left behind."""
    booked = [a["_id"] for a in db.appointments.find({"patient": pat["_id"]}, {"_id": 1})]
    return len(booked), db.appointment_claims.count_documents({"appt": {"$nin": booked}})


def test_twenty_concurrent_bookings_with_one_doctor_give_exactly_the_per_doctor_limit(api, db):
    # Given a patient and a doctor with twenty free, non-overlapping slots
    pat, doc = patient(), doctor()
    # When the patient books all twenty at once, each its own request through the app
    responses = concurrently(*[lambda d=d, t=t: book(api, pat, doc, day=d, time=t) for d, t in SLOTS])
    # Then exactly two are booked and the other eighteen are refused with the per-doctor limit's code
    statuses, codes = _codes(responses)
    assert statuses == [201] * 2 + [409] * 18
    assert codes == {"TOO_MANY_WITH_DOCTOR"}
    # And nothing of the refused bookings stays behind: two appointments' cells and seats only
    assert _stored(db, pat) == (2, 0)
    assert db.appointment_claims.count_documents({"kind": "seat"}) == 4


def test_twenty_concurrent_bookings_with_twenty_doctors_give_exactly_the_overall_limit(api, db):
    # Given a patient and twenty doctors, one free slot each, no two overlapping
    pat = patient()
    doctors = [doctor() for _ in SLOTS]
    # When the patient books all twenty at once
    responses = concurrently(*[lambda doc=doc, d=d, t=t: book(api, pat, doc, day=d, time=t)
                               for doc, (d, t) in zip(doctors, SLOTS, strict=True)])
    # Then exactly six are booked and fourteen are refused with the overall limit's code
    statuses, codes = _codes(responses)
    assert statuses == [201] * 6 + [409] * 14
    assert codes == {"TOO_MANY_APPOINTMENTS"}
    assert _stored(db, pat) == (6, 0)


def test_other_patients_are_not_limited_by_one_patients_appointments(api):
    # Given a patient at the per-doctor limit
    doc, pat = doctor(), patient()
    for d, t in SLOTS[:2]:
        assert book(api, pat, doc, day=d, time=t).status_code == 201
    # Then another patient still books that doctor
    assert book(api, patient(), doc, day=SLOTS[2][0], time=SLOTS[2][1]).status_code == 201


def test_a_cancellation_frees_its_seat_at_once(api, db):
    # Given a patient at the per-doctor limit
    pat, doc = patient(), doctor()
    first = body(book(api, pat, doc, day=SLOTS[0][0], time=SLOTS[0][1]))["appointment"]
    assert book(api, pat, doc, day=SLOTS[1][0], time=SLOTS[1][1]).status_code == 201
    refused = book(api, pat, doc, day=SLOTS[2][0], time=SLOTS[2][1])
    assert refused.status_code == 409 and body(refused)["code"] == "TOO_MANY_WITH_DOCTOR"
    # When one appointment is cancelled
    assert put(api, pat, f"/appointment/{first['_id']}/cancel", {"reason": "moved"}).status_code == 200
    # Then its seats are gone with its cells, and the third booking goes through
    assert db.appointment_claims.count_documents({"appt": ObjectId(first["_id"])}) == 0
    assert book(api, pat, doc, day=SLOTS[2][0], time=SLOTS[2][1]).status_code == 201


def test_a_completed_appointment_no_longer_counts(api, db, clock):
    # Given a patient at the per-doctor limit, the first appointment confirmed (at booking: the default)
    pat, doc = patient(), doctor()
    first = body(book(api, pat, doc, day="2026-03-03", time="09:00"))["appointment"]
    assert book(api, pat, doc, day="2026-03-04", time="09:00").status_code == 201
    assert first["status"] == "confirmed"
    # When the doctor completes it once it has started (before its end)
    clock.set(utc(2026, 3, 3, 3, 40))
    assert put(api, doc, f"/appointment/{first['_id']}/complete").status_code == 200
    # Then it holds no seat and the patient may book that doctor again
    assert db.appointment_claims.count_documents({"appt": ObjectId(first["_id"]), "kind": "seat"}) == 0
    assert book(api, pat, doc, day="2026-03-05", time="09:00").status_code == 201


def test_the_seat_of_an_appointment_that_has_ended_is_reused_without_any_sweeper(api, db, clock):
    # Given a patient at the per-doctor limit, with nobody ever acting on the first appointment
    pat, doc = patient(), doctor()
    assert book(api, pat, doc, day="2026-03-03", time="09:00").status_code == 201  # 03:30-04:00 UTC
    assert book(api, pat, doc, day="2026-03-05", time="09:00").status_code == 201
    refused = book(api, pat, doc, day="2026-03-04", time="09:00")
    assert refused.status_code == 409 and body(refused)["code"] == "TOO_MANY_WITH_DOCTOR"
    # When the first appointment's end passes (no sweeper runs)
    clock.set(utc(2026, 3, 3, 4, 0))
    tick()
    # Then the patient books that doctor again, taking over the ended appointment's seats
    third = book(api, pat, doc, day="2026-03-04", time="09:00")
    assert third.status_code == 201, third.body
    with_doctor = {s["_id"]: s["appt"] for s in db.appointment_claims.find({"kind": "seat"})
                   if s["_id"].startswith(f"limit|{pat['_id']}|{doc['_id']}|")}
    assert len(with_doctor) == 2  # the ended appointment's seat with the doctor was taken over, not added
    assert ObjectId(body(third)["appointment"]["_id"]) in with_doctor.values()
    # And the limit still holds: a fourth is refused
    fourth = book(api, pat, doc, day="2026-03-06", time="09:00")
    assert fourth.status_code == 409 and body(fourth)["code"] == "TOO_MANY_WITH_DOCTOR"


def test_a_rescheduled_appointment_holds_its_seats_until_its_new_end(api, db):
    # Given a booked appointment
    pat, doc = patient(), doctor()
    appt = body(book(api, pat, doc, day="2026-03-03", time="09:00"))["appointment"]
    # When the patient moves it two days later
    moved = put(api, pat, f"/appointment/{appt['_id']}/reschedule", {"day": "2026-03-05", "time": "10:00"})
    assert moved.status_code == 200, moved.body
    # Then its seats last until the new end (10:30 IST = 05:00 UTC)
    untils = {s["until"] for s in db.appointment_claims.find({"appt": ObjectId(appt["_id"]), "kind": "seat"})}
    assert untils == {utc(2026, 3, 5, 5, 0)}


def test_appointments_booked_before_seats_get_them_from_ensure_indexes_once(api, db):
    # Given three active appointments of one patient with one doctor stored without seats
    from functions.registry import ensure_indexes

    doc, pat = doctor(), patient()
    for n, day in enumerate((3, 4, 5)):
        db.appointments.insert_one({"patient": pat["_id"], "doctor": doc["_id"], "status": "confirmed",
                                    "start": utc(2026, 3, day, 4, 30), "end": utc(2026, 3, day, 5, 0),
                                    "slotKey": f"{doc['_id']}|legacy{n}", "patientSlotKey": f"{pat['_id']}|legacy{n}",
                                    "roomId": f"legacy-room-{n}", "updatedAt": utc(2026, 3, 1)})
    # When ensure-indexes runs twice
    ensure_indexes(db)
    seats = db.appointment_claims.count_documents({"kind": "seat"})
    ensure_indexes(db)
    # Then the two soonest hold a seat with the doctor, all three an overall seat, once
    assert seats == db.appointment_claims.count_documents({"kind": "seat"}) == 2 + 3
    # And the patient cannot book that doctor again until one is over
    refused = book(api, pat, doc, day="2026-03-06", time="09:00")
    assert refused.status_code == 409 and body(refused)["code"] == "TOO_MANY_WITH_DOCTOR"
    assert book(api, pat, doctor(), day="2026-03-06", time="09:00").status_code == 201
