"""Fault injection into a waitlist offer (`waitlist_offers`): whichever database command of the
offer fails (refused before it applied, or applied with its reply lost), the offer either stands
whole (the entry offered, naming an `offered` appointment that holds all its cells) or leaves
nothing behind (the entry waiting, no offered appointment, no claim), and a run again offers it."""

from __future__ import annotations

import contextlib
from datetime import timedelta
from typing import Any

from bson import ObjectId

from tests.appointments_support import api, appt_env, body, book, doctor, patient, put, twilio  # noqa: F401
from tests.faults import Fault, FaultPlan, count_steps, inject
from tests.integration.test_waitlist import join


def _state(db: Any, entry_id: Any) -> str:
    """"offered" (whole), "waiting" (nothing left), or what is wrong."""
    entry = db.waitlist.find_one({"_id": entry_id})
    offered = list(db.appointments.find({"status": "offered"}))
    stray = db.appointment_claims.count_documents({"appt": {"$nin": [a["_id"] for a in db.appointments.find()]}})
    if stray:
        return f"{stray} claims of no appointment"
    if entry["status"] == "waiting":
        return "waiting" if not offered else f"{len(offered)} offered appointments of a waiting entry"
    if len(offered) != 1 or entry["offer"]["appointment"] != offered[0]["_id"]:
        return "an offered entry without its appointment"
    appt = offered[0]
    cells = db.appointment_claims.count_documents({"appt": appt["_id"]})
    minutes = (appt["end"] - appt["start"]) / timedelta(minutes=5)
    expected = int(minutes) * 2 + int(appt.get("bufferMinutes") or 0) // 5
    return "offered" if cells == expected else f"{cells} of {expected} cells"


def test_an_offer_that_fails_at_any_command_stands_whole_or_leaves_nothing(api, db):  # noqa: F811
    from functions.appointments import waitlist_offers

    def scene() -> tuple[Any, Any]:
        """A cancelled 09:00 appointment, then a patient waiting for that morning."""
        doc, holder, waiting = doctor(), patient(), patient()
        appt = body(book(api, holder, doc, time="09:00"))["appointment"]
        assert put(api, holder, f"/appointment/{appt['_id']}/cancel", {"reason": "x"}).status_code == 200
        assert join(api, waiting, doc).status_code == 201
        db.appointments.delete_many({"status": "offered"})  # nothing from other runs
        return appt["_id"], db.waitlist.find_one({"patient": waiting["_id"]})["_id"]

    appt_id, _ = scene()
    steps = count_steps(lambda: waitlist_offers.offer_freed(ObjectId(appt_id)))
    assert len(steps) >= 5, steps
    for k in range(1, len(steps) + 1):
        for fault in Fault:
            db.appointments.delete_many({})
            db.appointment_claims.delete_many({})
            db.waitlist.delete_many({})
            appt_id, entry_id = scene()
            # When the k-th command of the offer fails
            # (an exception is the outbox worker's to retry later)
            with inject(FaultPlan(fail_at=k, fault=fault)) as injected, contextlib.suppress(Exception):
                waitlist_offers.offer_freed(ObjectId(appt_id))
            assert injected.fired
            # Then the offer stands whole or nothing of it is left
            state = _state(db, entry_id)
            assert state in ("offered", "waiting"), (k, fault, steps[k - 1], state)
            # And run again (the worker's retry), the slot is offered, whole
            if state == "waiting":
                waitlist_offers.offer_freed(ObjectId(appt_id))
            assert _state(db, entry_id) == "offered", (k, fault, steps[k - 1])


def test_an_acceptance_that_fails_at_any_command_is_a_booking_with_its_seats_or_still_an_offer(api, db):  # noqa: F811
    from functions.appointments import waitlist_answers
    from functions.core.security import Principal

    def scene() -> tuple[Any, Any]:
        """A patient holding an offer of a freed 09:00 slot."""
        doc, holder, waiting = doctor(), patient(), patient()
        appt = body(book(api, holder, doc, time="09:00"))["appointment"]
        assert join(api, waiting, doc).status_code == 201
        assert put(api, holder, f"/appointment/{appt['_id']}/cancel", {"reason": "x"}).status_code == 200
        entry = db.waitlist.find_one({"patient": waiting["_id"]})
        assert entry["status"] == "offered"
        return waiting, entry

    def accept(who: dict[str, Any], entry: dict[str, Any]) -> Any:
        return waitlist_answers.accept(Principal(user=who, claims={}), str(entry["_id"]))

    who, entry = scene()
    steps = count_steps(lambda: accept(who, entry))
    for k in range(1, len(steps) + 1):
        for fault in Fault:
            who, entry = scene()
            appt_id = entry["offer"]["appointment"]
            with inject(FaultPlan(fail_at=k, fault=fault)) as injected, contextlib.suppress(Exception):
                accept(who, entry)
            if not injected.fired:
                continue
            appt = db.appointments.find_one({"_id": appt_id})
            seats = db.appointment_claims.count_documents({"appt": appt_id, "kind": "seat"})
            # Then it is a booking holding its two seats, or still an offer holding none
            assert (appt["status"], seats) in (("confirmed", 2), ("offered", 0)), (k, fault, steps[k - 1])
            # And an offer still open is accepted on a retry
            if appt["status"] == "offered":
                accept(who, entry)
                assert db.appointments.find_one({"_id": appt_id})["status"] == "confirmed"
            assert db.appointment_claims.count_documents({"appt": appt_id, "kind": "seat"}) == 2
