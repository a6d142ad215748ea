"""The doctor's `requiresConfirmation` setting: off by default (a booking is confirmed at once
and each party hears it once), on = bookings wait `pending` for the doctor's confirmation.
(With payment required, see test_payments_hold.py.)"""

from bson import ObjectId

from tests.appointments_support import body, book, doctor, get, patient, put, schedules, sent_emails


def emails_to(user):
    return [m.body for m in sent_emails() if user["contact"] in m.destinations["ToAddresses"]]


def test_the_setting_is_off_by_default_set_with_put_and_shown_with_the_availability(api):
    # Given a doctor who never set it (the field is absent from their document)
    doc = doctor()
    # When they read their availability settings, it is off
    assert body(get(api, doc, "/doctor/availability"))["availability"]["requiresConfirmation"] is False
    # When they turn it on
    response = put(api, doc, "/doctor/availability", {"requiresConfirmation": True})
    # Then the answer and a later read show it, and a booking waits for them
    assert response.status_code == 200, response.body
    assert body(response)["availability"]["requiresConfirmation"] is True
    assert body(get(api, doc, "/doctor/availability"))["availability"]["requiresConfirmation"] is True
    assert body(book(api, patient(), doc, time="09:00"))["appointment"]["status"] == "pending"
    # When a later PUT omits it (PUT replaces the whole setting), it is off again
    assert put(api, doc, "/doctor/availability", {"slotMinutes": 30}).status_code == 200
    assert body(book(api, patient(), doc, time="10:00"))["appointment"]["status"] == "confirmed"


def test_a_booking_is_confirmed_at_once_and_each_party_hears_it_once(api, db):
    # Given a doctor without the setting
    doc, pat = doctor(), patient()
    # When the patient books
    response = book(api, pat, doc, day="2026-03-04")
    # Then it is confirmed, its reminders are armed as for any active appointment
    appt = body(response)["appointment"]
    assert response.status_code == 201 and appt["status"] == "confirmed"
    assert set(schedules()) == {f"appt-{appt['_id']}-1440m", f"appt-{appt['_id']}-15m"}
    # And each party got one notice saying "confirmed" once, and none awaiting a confirmation
    [to_patient], [to_doctor] = emails_to(pat), emails_to(doc)
    assert "is booked and confirmed" in to_patient and "new confirmed appointment" in to_doctor
    for text in (to_patient, to_doctor):
        assert text.count("confirmed") == 1 and "awaits" not in text and "request" not in text
    # And there is nothing left to confirm: no second "confirmed" notice can follow
    again = put(api, doc, f"/appointment/{appt['_id']}/confirm")
    assert again.status_code == 409 and body(again)["code"] == "ILLEGAL_TRANSITION"
    assert len(sent_emails()) == 2
    assert db.appointments.find_one({"_id": ObjectId(appt["_id"])})["requiresConfirmation"] is False


def test_with_the_setting_a_booking_waits_and_the_doctors_confirmation_is_the_confirmed_notice(api):
    # Given a doctor who confirms bookings
    doc, pat = doctor(availability={"requiresConfirmation": True}), patient()
    # When the patient books
    appt = body(book(api, pat, doc))["appointment"]
    # Then it is pending: the patient hears it awaits the doctor, the doctor gets a request
    assert appt["status"] == "pending"
    assert ["awaits the doctor's confirmation" in t for t in emails_to(pat)] == [True]
    assert ["appointment request" in t for t in emails_to(doc)] == [True]
    # When the doctor confirms, both hear "confirmed"
    assert body(put(api, doc, f"/appointment/{appt['_id']}/confirm"))["appointment"]["status"] == "confirmed"
    assert "is confirmed" in emails_to(pat)[-1] and "is confirmed" in emails_to(doc)[-1]


def test_a_patients_reschedule_stays_confirmed_unless_the_doctor_confirms_bookings(api):
    # Given a confirmed appointment of a doctor without the setting, and one of a doctor with it
    easy, strict, pat = doctor(), doctor(availability={"requiresConfirmation": True}), patient()
    kept = body(book(api, pat, easy, time="09:00"))["appointment"]
    waits = body(book(api, pat, strict, time="11:00"))["appointment"]
    assert put(api, strict, f"/appointment/{waits['_id']}/confirm").status_code == 200
    # When the patient moves both
    moved = put(api, pat, f"/appointment/{kept['_id']}/reschedule", {"day": "2026-03-04", "time": "14:00"})
    moved_strict = put(api, pat, f"/appointment/{waits['_id']}/reschedule", {"day": "2026-03-04", "time": "15:00"})
    # Then the first stays confirmed; the second waits for its doctor to confirm the new time
    assert body(moved)["appointment"]["status"] == "confirmed"
    assert body(moved_strict)["appointment"]["status"] == "pending"


def test_turning_the_setting_off_leaves_existing_appointments_as_they_are(api, db):
    # Given a pending appointment of a doctor who confirms bookings
    doc, pat = doctor(availability={"requiresConfirmation": True}), patient()
    appt = body(book(api, pat, doc))["appointment"]
    # When the doctor turns the setting off
    assert put(api, doc, "/doctor/availability", {"requiresConfirmation": False}).status_code == 200
    # Then that appointment is still pending (no migration), and the doctor can still confirm it
    assert body(get(api, pat, f"/appointment/{appt['_id']}"))["appointment"]["status"] == "pending"
    assert put(api, doc, f"/appointment/{appt['_id']}/confirm").status_code == 200
