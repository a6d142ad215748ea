"""Twenty Lambda containers book the same slot at the same moment.

Each booking runs in its own process (as concurrent invocations do in AWS: one container each),
through the real API entry point `app.app(event, context)` with an API Gateway proxy event, against
the same real database. The unique keys of the appointment insert decide the race.
"""

from tests.appointments_support import book, doctor, patient
from tests.lambda_race import race

CONTENDERS = 20


def test_twenty_containers_booking_one_slot_make_exactly_one_appointment(api, db, chalice_app):
    # Given an approved doctor and twenty patients who all want Tuesday 09:00
    the_doctor = doctor()
    patients = [patient() for _ in range(CONTENDERS)]
    payload = {"doctor": str(the_doctor["_id"]), "description": "check-up", "symptoms": "cough",
               "day": "2026-03-03", "time": "09:00"}
    # When all of them invoke the booking Lambda at once
    outcomes = race(chalice_app, [("POST", "/appointment/new", p, payload, None) for p in patients])
    # Then exactly one booking is created and every other caller is told the slot is taken
    statuses = sorted(status for status, _ in outcomes)
    assert statuses == [201] + [409] * (CONTENDERS - 1)
    assert {body.get("code") for status, body in outcomes if status == 409} == {"SLOT_TAKEN"}
    assert db["appointments"].count_documents({"doctor": the_doctor["_id"]}) == 1
    # And the slot stays taken for a latecomer
    late = book(api, patient(), the_doctor)
    assert late.status_code == 409
