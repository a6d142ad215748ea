"""Waitlist offers (issue 24 §1): a cancelled appointment's slot is offered to the first eligible
patient waiting for it, exactly once, as an `offered` appointment holding the slot's cells."""

from __future__ import annotations

from typing import Any

from bson import ObjectId

from tests.appointments_support import (  # noqa: F401
    api,
    appt_env,
    body,
    book,
    concurrently,
    doctor,
    get,
    patient,
    put,
    sent_emails,
    twilio,
)
from tests.integration.test_waitlist import join, mine


def cancel(client: Any, who: dict[str, Any], appt: dict[str, Any], *, then_tick: bool = True) -> Any:
    return put(client, who, f"/appointment/{appt['_id']}/cancel", {"reason": "cannot come"}, then_tick=then_tick)


def test_a_cancelled_slot_is_offered_to_the_first_in_line_and_to_nobody_else(api, db):  # noqa: F811
    # Given a booked 09:00 slot and two patients waiting for that morning, the first one first
    doc, holder, first, second = doctor(), patient(), patient(), patient()
    appt = body(book(api, holder, doc, time="09:00"))["appointment"]
    assert join(api, first, doc).status_code == 201
    assert join(api, second, doc).status_code == 201
    # When the holder cancels
    assert cancel(api, holder, appt).status_code == 200
    # Then the first in line holds an offer of that slot, the second still waits
    [entry] = mine(api, first)
    assert entry["status"] == "offered"
    assert entry["offer"]["day"] == "2026-03-03" and entry["offer"]["time"] == "09:00"
    assert entry["offer"]["expiresAt"].startswith("2026-03-02T10:15")
    assert [e["status"] for e in mine(api, second)] == ["waiting"]
    # And they were told (an e-mail naming no symptom)
    told = [m for m in sent_emails() if first["contact"] in m.destinations["ToAddresses"]]
    assert len(told) == 1 and "held for you" in told[0].body and "SECRET" not in told[0].body
    # And the offer is not among their appointments until accepted, but holds the slot
    assert body(get(api, first, "/appointment/my"))["appointments"] == []
    taken = book(api, patient(), doc, time="09:00")
    assert taken.status_code == 409 and body(taken)["code"] == "SLOT_TAKEN"
    offered = db.appointments.find_one({"patient": first["_id"], "status": "offered"})
    assert db.appointment_claims.count_documents({"appt": offered["_id"]}) > 0


def test_a_waiting_patient_busy_at_that_time_is_skipped(api, db):  # noqa: F811
    # Given the first in line holds another appointment at 09:00 (with another doctor)
    doc, holder, busy, free = doctor(), patient(), patient(), patient()
    appt = body(book(api, holder, doc, time="09:00"))["appointment"]
    assert join(api, busy, doc).status_code == 201
    assert join(api, free, doc).status_code == 201
    assert book(api, busy, doctor(), time="09:00").status_code == 201
    # When the slot is freed
    assert cancel(api, holder, appt).status_code == 200
    # Then it goes to the next in line: a patient never holds an offer and a booking that overlap
    assert [e["status"] for e in mine(api, busy)] == ["waiting"]
    assert [e["status"] for e in mine(api, free)] == ["offered"]


def test_a_slot_outside_the_window_is_not_offered(api):  # noqa: F811
    doc, holder, waiting = doctor(), patient(), patient()
    appt = body(book(api, holder, doc, time="14:00"))["appointment"]
    assert join(api, waiting, doc, **{"from": "09:00", "to": "12:00"}).status_code == 201
    assert cancel(api, holder, appt).status_code == 200
    assert [e["status"] for e in mine(api, waiting)] == ["waiting"]


def test_concurrent_cancels_and_bookings_offer_each_slot_at_most_once_first_in_line_first(api, db):  # noqa: F811
    # Given four booked slots of one morning and two patients waiting for that morning
    doc = doctor()
    times = ["09:00", "09:30", "10:00", "10:30"]
    holders = [patient() for _ in times]
    appts = [body(book(api, h, doc, time=t))["appointment"] for h, t in zip(holders, times, strict=True)]
    waiters = [patient(), patient()]
    for w in waiters:
        assert join(api, w, doc).status_code == 201
    others = [patient() for _ in range(16)]
    # When the four cancel while sixteen other patients book those slots, all at once
    calls = [lambda h=h, a=a: cancel(api, h, a, then_tick=False) for h, a in zip(holders, appts, strict=True)]
    calls += [lambda p=p, t=times[i % 4]: book(api, p, doc, time=t) for i, p in enumerate(others)]
    responses = concurrently(*calls)
    assert [r.status_code for r in responses[:4]] == [200] * 4
    # Then each slot has exactly one holder at most (a booking or an offer), never two
    live = list(db.appointments.find({"doctor": doc["_id"], "status": {"$in": ["confirmed", "offered"]}}))
    assert len({a["start"] for a in live}) == len(live)
    # And each waiting patient holds at most one offer, the first in line before the second
    offers = [a for a in live if a["status"] == "offered"]
    holders_of_offers = [a["patient"] for a in offers]
    assert len(holders_of_offers) == len(set(holders_of_offers)) <= 2
    if offers:
        assert waiters[0]["_id"] in holders_of_offers
    for w in waiters:
        entries = mine(api, w)
        assert entries[0]["status"] == ("offered" if w["_id"] in holders_of_offers else "waiting")
    # And no claim is left without its holder
    ids = [a["_id"] for a in db.appointments.find({"doctor": doc["_id"]}, {"_id": 1})]
    assert db.appointment_claims.count_documents({"appt": {"$nin": ids}}) == 0
    assert all(isinstance(a["_id"], ObjectId) for a in offers)


def test_the_slot_a_reschedule_leaves_is_offered_to_the_first_in_line(api):  # noqa: F811
    # Given a booked 09:00 slot and a patient waiting for that morning
    doc, holder, waiting = doctor(), patient(), patient()
    appt = body(book(api, holder, doc, time="09:00"))["appointment"]
    assert join(api, waiting, doc).status_code == 201
    # When the holder moves to the afternoon
    moved = put(api, holder, f"/appointment/{appt['_id']}/reschedule", {"day": "2026-03-03", "time": "14:00"})
    assert moved.status_code == 200, moved.body
    # Then the 09:00 slot it left is offered to the waiting patient
    [entry] = mine(api, waiting)
    assert entry["status"] == "offered" and entry["offer"]["time"] == "09:00"


def test_a_patient_online_is_told_of_the_offer_by_a_websocket_frame_instead_of_a_message(api, chalice_app):  # noqa: F811
    from tests.signaling_support import fresh_sockets

    # Given a booked 09:00 slot and a patient waiting for that morning, connected to the WebSocket API
    doc, holder, waiting = doctor(), patient(), patient()
    appt = body(book(api, holder, doc, time="09:00"))["appointment"]
    assert join(api, waiting, doc).status_code == 201
    with fresh_sockets(chalice_app) as sockets:
        cid = sockets.open(waiting)
        # When the holder cancels
        assert cancel(api, holder, appt).status_code == 200
        # Then the waiting patient's socket gets the offer, with what they need to answer it
        [entry] = mine(api, waiting)
        [frame] = sockets.new_frames(cid)
        assert frame == {"type": "waitlist-offer", "entryId": entry["_id"],
                         "appointmentId": entry["offer"]["appointment"], "doctor": str(doc["_id"]),
                         "doctorName": doc["name"], "day": "2026-03-03", "time": "09:00",
                         "expiresAt": entry["offer"]["expiresAt"]}
    # And no SMS or e-mail went to them
    assert not [m for m in sent_emails() if waiting["contact"] in m.destinations["ToAddresses"]]


def test_a_notice_whose_push_fails_is_sent_as_its_message(api, chalice_app):  # noqa: F811
    from functions.core import outbox
    from functions.signaling.delivery import deliver_notice
    from tests.faults import Fault, FaultPlan, inject
    from tests.signaling_support import fresh_sockets

    # Given an online patient and an offer's notice to them: a frame for their sockets, else its e-mail
    waiting = patient()
    message = outbox.message("email", waiting["contact"], "CureConnect: a slot for you", "held for you",
                             kind="waitlist_offer")
    frame = {"type": "waitlist-offer", "entryId": str(ObjectId()), "appointmentId": str(ObjectId()),
             "doctor": str(ObjectId()), "doctorName": None, "day": "2026-03-03", "time": "09:00",
             "expiresAt": "2026-03-02T10:15:00+00:00"}
    notice = outbox.notice(waiting["_id"], frame, message)
    with fresh_sockets(chalice_app) as sockets:
        cid = sockets.open(waiting)
        # When the push cannot read their connections (the database refuses the read)
        with inject(FaultPlan(fail_at=1, fault=Fault.REFUSED)):
            failed = deliver_notice(notice.payload)
        # Then the message goes out instead: the offer is never left untold
        assert failed == [message] and sockets.new_frames(cid) == []
        # While a push that works sends no message
        assert deliver_notice(notice.payload) == [] and sockets.types(cid) == ["waitlist-offer"]
