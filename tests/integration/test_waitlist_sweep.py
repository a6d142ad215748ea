"""Waitlist entries whose days are over (issue 24 §1): the sweeper (`appointments.waitlist` in
`registry.SWEEPS`) ends them once the window of their last day has closed, gives their place
back, and withdraws an offer such an entry still holds; `GET /appointment/waitlist/my` shows them
as `ended`."""

from __future__ import annotations

from bson import ObjectId

from tests.appointments_support import api, appt_env, body, book, doctor, patient, twilio, utc  # noqa: F401
from tests.integration.test_waitlist import join, mine
from tests.integration.test_waitlist_offers import cancel


def test_an_entry_whose_last_window_closed_is_ended_and_gives_its_place_back(api, clock):  # noqa: F811
    from functions import registry

    # Given a patient on three waitlists (the most allowed): one for tomorrow morning, one for two days,
    # one for tomorrow evening (the doctor's zone is Asia/Kolkata: 09:00-12:00 ends at 06:30 UTC)
    pat, doc = patient(), doctor()
    tomorrow = body(join(api, pat, doc))["entry"]
    two_days = body(join(api, pat, doc, untilDay="2026-03-04"))["entry"]
    evening = body(join(api, pat, doc, **{"from": "17:00", "to": "19:00"}))["entry"]
    assert join(api, pat, doctor()).status_code == 409
    # When tomorrow's morning window has closed (07:00 UTC, 12:30 in Kolkata) and the sweeper runs
    clock.advance(hours=21)
    registry.sweep()
    # Then only the entry whose last window closed is ended, and it is listed as such
    assert {e["_id"]: e["status"] for e in mine(api, pat)} == {
        tomorrow["_id"]: "ended", two_days["_id"]: "waiting", evening["_id"]: "waiting"}
    # And its place is free for another join
    assert join(api, pat, doctor(), day="2026-03-04").status_code == 201
    # And an ended entry can be removed from the list
    from tests.http import call

    assert call(api, "DELETE", f"/appointment/waitlist/{tomorrow['_id']}", as_=pat).status_code == 200


def test_an_offer_held_by_an_entry_whose_days_are_over_is_withdrawn(api, clock, db, monkeypatch):  # noqa: F811
    from functions import registry
    from functions.core import config

    # Given offers held for two days, and a patient offered tomorrow's 09:00 slot of a cancelled booking
    monkeypatch.setenv("WAITLIST_OFFER_MINUTES", "2880")
    config.reset_settings()
    doc, holder, waiting = doctor(), patient(), patient()
    appt = body(book(api, holder, doc, time="09:00"))["appointment"]
    assert join(api, waiting, doc).status_code == 201
    assert cancel(api, holder, appt).status_code == 200
    [entry] = mine(api, waiting)
    assert entry["status"] == "offered"
    # When the entry's day is over (its window closed) before the offer ran out, and the sweeper runs
    clock.advance(hours=21)
    registry.sweep()
    # Then the entry is ended, its offer gone, and the offered appointment no longer holds the slot
    [entry] = mine(api, waiting)
    assert entry["status"] == "ended" and entry["offer"] is None
    [offered] = db.appointments.find({"patient": waiting["_id"]})
    assert offered["status"] == "cancelled"
    assert db.appointment_claims.count_documents({"appt": offered["_id"]}) == 0


def test_a_window_already_over_cannot_be_joined(api, clock):  # noqa: F811
    # Given it is 15:30 in the doctor's zone (Asia/Kolkata) today
    pat, doc = patient(), doctor()
    # When a patient joins today's 09:00-12:00 window
    refused = join(api, pat, doc, day="2026-03-02")
    # Then it is refused as past, and today's evening can still be joined
    assert refused.status_code == 422 and body(refused)["code"] == "SLOT_IN_PAST"
    assert join(api, pat, doc, day="2026-03-02", **{"from": "17:00", "to": "19:00"}).status_code == 201


def test_entries_joined_before_their_end_was_stored_get_one_from_ensure_indexes_and_end(api, clock, db):  # noqa: F811
    from functions import registry

    # Given an entry for tomorrow 09:00-12:00 as the first version stored it (no `endsAt`)
    pat, doc = patient(), doctor()
    entry = body(join(api, pat, doc))["entry"]
    db.waitlist.update_one({"_id": ObjectId(entry["_id"])}, {"$unset": {"endsAt": ""}})
    # When ensure-indexes runs (twice: it is idempotent)
    registry.ensure_indexes(db)
    registry.ensure_indexes(db)
    # Then the entry ends when tomorrow's window has closed wherever that day ends last (UTC-12)
    assert db.waitlist.find_one({"_id": ObjectId(entry["_id"])})["endsAt"] == utc(2026, 3, 4, 0, 0)
    clock.advance(hours=21)  # 12:30 in the doctor's zone: over there, but not everywhere
    registry.sweep()
    assert [e["status"] for e in mine(api, pat)] == ["waiting"]
    clock.advance(hours=17)  # 00:00 UTC on the 4th: noon of the 3rd at UTC-12
    registry.sweep()
    assert [e["status"] for e in mine(api, pat)] == ["ended"]
