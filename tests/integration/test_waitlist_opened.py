"""Waitlist offers of slots a doctor opens (issue 24 §1): new hours (`PUT /doctor/availability`) or
time off removed (`DELETE /doctor/time-off/:id`) offer the slots bookable now that were not
before, inside waiting entries' windows, to the first eligible waiting patients, off the request
path (an outbox effect), each slot exactly once."""

from __future__ import annotations

from typing import Any

from tests.appointments_support import api, appt_env, body, book, concurrently, doctor, patient, put, twilio  # noqa: F401
from tests.http import call
from tests.integration.test_round_trips import commands  # noqa: F401
from tests.integration.test_waitlist import join, mine

AFTERNOONS = {"weeklyHours": {"tuesday": [{"start": "14:00", "end": "17:00"}]}}
ALL_DAY = {"weeklyHours": {"tuesday": [{"start": "09:00", "end": "12:00"}, {"start": "14:00", "end": "17:00"}]}}


def _offer(client: Any, who: dict[str, Any]) -> tuple[str, str | None]:
    [entry] = mine(client, who)
    return entry["status"], (entry["offer"] or {}).get("time")


def test_slots_a_doctor_opens_go_to_the_first_in_line_one_each(api):  # noqa: F811
    # Given a doctor seeing patients on Tuesday afternoons only, two patients waiting for Tuesday
    # morning (the first one first) and one for Tuesday afternoon (open already, its slots free)
    doc = doctor(availability=AFTERNOONS)
    first, second, afternoon = patient(), patient(), patient()
    assert join(api, first, doc).status_code == 201
    assert join(api, second, doc).status_code == 201
    assert join(api, afternoon, doc, **{"from": "14:00", "to": "16:00"}).status_code == 201
    # When the doctor opens Tuesday mornings
    opened = put(api, doc, "/doctor/availability", ALL_DAY)
    # Then the answer is the new setting, and the first two opened slots go to the two waiting in line
    assert opened.status_code == 200, opened.body
    assert _offer(api, first) == ("offered", "09:00")
    assert _offer(api, second) == ("offered", "09:30")
    # And a slot that was bookable before is no news: the afternoon's patient still waits
    assert _offer(api, afternoon) == ("waiting", None)
    # And an offered slot is held: nobody books it
    taken = book(api, patient(), doc, time="09:00")
    assert taken.status_code == 409 and body(taken)["code"] == "SLOT_TAKEN"


def test_an_opened_slot_a_booking_holds_is_not_offered(api):  # noqa: F811
    # Given a 09:00 booking the doctor keeps after closing mornings, and a patient waiting for 09:00-10:00
    doc = doctor(availability=ALL_DAY)
    assert book(api, patient(), doc, time="09:00").status_code == 201
    assert put(api, doc, "/doctor/availability", AFTERNOONS).status_code == 200
    waiting = patient()
    assert join(api, waiting, doc, **{"from": "09:00", "to": "10:00"}).status_code == 201
    # When the doctor opens mornings again
    assert put(api, doc, "/doctor/availability", ALL_DAY).status_code == 200
    # Then the waiting patient is offered the free 09:30 slot, not the booked 09:00
    assert _offer(api, waiting) == ("offered", "09:30")


def test_time_off_removed_offers_its_slots(api):  # noqa: F811
    # Given the doctor took Tuesday morning off, and a patient waits for it
    doc, waiting = doctor(), patient()
    off = call(api, "POST", "/doctor/time-off", as_=doc,
               json={"start": "2026-03-03T09:00:00", "end": "2026-03-03T12:00:00", "reason": "conference"})
    assert off.status_code == 201, off.body
    assert join(api, waiting, doc).status_code == 201
    # When the doctor removes that time off
    removed = call(api, "DELETE", f"/doctor/time-off/{body(off)['timeOff']['_id']}", as_=doc)
    # Then the morning's first slot is offered to the waiting patient
    assert removed.status_code == 200
    assert _offer(api, waiting) == ("offered", "09:00")


def test_opening_hours_costs_the_request_one_round_trip_more_than_the_write(api, commands):  # noqa: F811
    doc = doctor(availability=AFTERNOONS)
    assert join(api, patient(), doc).status_code == 201
    # When the doctor opens mornings (effects recorded, not delivered)
    opened, sent = commands.during(lambda: put(api, doc, "/doctor/availability", ALL_DAY))
    # Then the request read the caller, wrote the setting and recorded the effect: nothing else
    assert opened.status_code == 200
    assert sent == ["find:users", "update:users", "insert:notifications"], sent


def test_concurrent_openings_and_bookings_offer_each_opened_slot_exactly_once(api, db):  # noqa: F811
    # Given a doctor about to open Tuesday mornings (six slots) and three patients waiting for them
    doc = doctor(availability=AFTERNOONS)
    waiters = [patient() for _ in range(3)]
    for w in waiters:
        assert join(api, w, doc).status_code == 201
    # When the doctor's opening is sent five times while fifteen patients try to book the first three
    # of those slots, all at once (each opening's offers delivered in its own request's thread)
    calls = [lambda: put(api, doc, "/doctor/availability", ALL_DAY, then_tick=False) for _ in range(5)]
    calls += [lambda p=p, t=("09:00", "09:30", "10:00")[i % 3]: book(api, p, doc, time=t)
              for i, p in enumerate(patient() for _ in range(15))]
    responses = concurrently(*calls)
    assert [r.status_code for r in responses[:5]] == [200] * 5
    assert {r.status_code for r in responses[5:]} <= {201, 409, 422}  # booked, taken, or not open yet
    # Then each slot has one holder at most (a booking or an offer), never two
    live = list(db.appointments.find({"doctor": doc["_id"], "status": {"$in": ["confirmed", "offered"]}}))
    assert len({a["start"] for a in live}) == len(live)
    # And each waiting patient holds exactly one offer (at least three slots nobody booked were opened),
    # whatever the five deliveries raced for
    offers = [a for a in live if a["status"] == "offered"]
    assert sorted(str(a["patient"]) for a in offers) == sorted(str(w["_id"]) for w in waiters)
    assert [mine(api, w)[0]["status"] for w in waiters] == ["offered"] * 3
    # And every offer holds its slot's cells, and no claim is left without its holder
    for offer in offers:
        assert db.appointment_claims.count_documents({"appt": offer["_id"]}) == 12  # 6 cells each, doctor and patient
    ids = [a["_id"] for a in db.appointments.find({"doctor": doc["_id"]}, {"_id": 1})]
    assert db.appointment_claims.count_documents({"appt": {"$nin": ids}}) == 0
