"""Answering a waitlist offer (issue 24 §1): accept (a booking, the appointment limits applying
now), decline or let it lapse (the next in line is offered)."""

from __future__ import annotations

from typing import Any

from tests.appointments_support import api, appt_env, body, book, doctor, get, patient, put, twilio  # noqa: F401
from tests.integration.test_waitlist import join, mine
from tests.integration.test_waitlist_offers import cancel


def _offered(client: Any, doc: dict[str, Any], *waiting: dict[str, Any], time: str = "09:00") -> None:
    """A booked slot the `waiting` patients wait for (in this order), then cancelled: the first is offered it."""
    holder = patient()
    appt = body(book(client, holder, doc, time=time))["appointment"]
    for w in waiting:
        assert join(client, w, doc).status_code == 201
    assert cancel(client, holder, appt).status_code == 200


def _entry(client: Any, who: dict[str, Any]) -> dict[str, Any]:
    [entry] = mine(client, who)
    return entry


def test_an_accepted_offer_becomes_a_confirmed_booking_listed_with_the_patients_appointments(api, db):  # noqa: F811
    # Given a patient offered a freed slot
    doc, first = doctor(), patient()
    _offered(api, doc, first)
    entry = _entry(api, first)
    # When they accept it
    accepted = put(api, first, f"/appointment/waitlist/{entry['_id']}/accept")
    # Then it is their confirmed appointment, listed among their appointments, and the entry is done
    assert accepted.status_code == 200, accepted.body
    appt = body(accepted)["appointment"]
    assert appt["status"] == "confirmed" and appt["day"] == "2026-03-03" and appt["time"] == "09:00"
    assert [a["_id"] for a in body(get(api, first, "/appointment/my"))["appointments"]] == [appt["_id"]]
    assert _entry(api, first)["status"] == "accepted" and _entry(api, first)["offer"] is None
    # And it holds its limit seats like any booking
    assert db.appointment_claims.count_documents({"kind": "seat", "patient": {"$exists": False},
                                                  "_id": {"$regex": f"^limit\\|{first['_id']}"}}) == 2
    # And accepting again is refused
    again = put(api, first, f"/appointment/waitlist/{entry['_id']}/accept")
    assert again.status_code == 409 and body(again)["code"] == "OFFER_GONE"


def test_the_appointment_limits_apply_at_acceptance(api):  # noqa: F811
    # Given a patient with two appointments with the doctor already (MAX_ACTIVE_PER_DOCTOR = 2), offered a third
    doc, first = doctor(), patient()
    _offered(api, doc, first)
    for day in ("2026-03-04", "2026-03-05"):
        assert book(api, first, doc, day=day, time="09:00").status_code == 201
    # When they accept it
    refused = put(api, first, f"/appointment/waitlist/{_entry(api, first)['_id']}/accept")
    # Then the limit refuses it and the offer stays open
    assert refused.status_code == 409 and body(refused)["code"] == "TOO_MANY_WITH_DOCTOR"
    assert _entry(api, first)["status"] == "offered"


def test_a_declined_offer_goes_to_the_next_in_line(api):  # noqa: F811
    doc, first, second = doctor(), patient(), patient()
    _offered(api, doc, first, second)
    # When the first declines
    declined = put(api, first, f"/appointment/waitlist/{_entry(api, first)['_id']}/decline")
    # Then the second is offered the slot and the first's entry is done
    assert declined.status_code == 200
    assert _entry(api, first)["status"] == "declined"
    offer = _entry(api, second)
    assert offer["status"] == "offered" and offer["offer"]["time"] == "09:00"


def test_a_lapsed_offer_moves_on_to_the_next_in_line(api, clock):  # noqa: F811
    from functions import registry

    doc, first, second = doctor(), patient(), patient()
    _offered(api, doc, first, second)
    entry = _entry(api, first)
    # When WAITLIST_OFFER_MINUTES (15) pass and the sweeper runs
    clock.advance(minutes=16)
    registry.sweep()
    # Then the first's offer lapsed, the second holds the slot now
    assert _entry(api, first)["status"] == "lapsed"
    assert _entry(api, second)["status"] == "offered"
    # And the first can no longer accept it
    late = put(api, first, f"/appointment/waitlist/{entry['_id']}/accept")
    assert late.status_code == 409 and body(late)["code"] == "OFFER_GONE"


def test_nobody_else_accepts_or_declines_someones_offer(api):  # noqa: F811
    doc, first, other = doctor(), patient(), patient()
    _offered(api, doc, first)
    entry = _entry(api, first)
    for action in ("accept", "decline"):
        assert put(api, other, f"/appointment/waitlist/{entry['_id']}/{action}").status_code == 404
        assert put(api, doc, f"/appointment/waitlist/{entry['_id']}/{action}").status_code == 403
    assert _entry(api, first)["status"] == "offered"


def test_where_payment_is_required_an_accepted_offer_is_a_payment_hold_first(api, monkeypatch):  # noqa: F811
    from functions.core import config

    monkeypatch.setenv("REQUIRE_APPOINTMENT_PAYMENT", "true")
    config.reset_settings()
    doc, first = doctor(), patient()
    _offered(api, doc, first)
    accepted = put(api, first, f"/appointment/waitlist/{_entry(api, first)['_id']}/accept")
    assert accepted.status_code == 200 and body(accepted)["appointment"]["status"] == "pending_payment"


def test_a_released_payment_hold_is_offered_to_the_waitlist(api, clock, monkeypatch):  # noqa: F811
    from functions import registry
    from functions.core import config

    # Given payment is required, a booking held unpaid, and a patient waiting for that slot
    monkeypatch.setenv("REQUIRE_APPOINTMENT_PAYMENT", "true")
    config.reset_settings()
    doc, holder, waiting = doctor(), patient(), patient()
    assert body(book(api, holder, doc, time="09:00"))["appointment"]["status"] == "pending_payment"
    assert join(api, waiting, doc).status_code == 201
    # When the hold's time runs out and the sweeper releases it
    clock.advance(minutes=16)
    registry.sweep()
    # Then the waiting patient is offered the slot
    entry = _entry(api, waiting)
    assert entry["status"] == "offered" and entry["offer"]["time"] == "09:00"
