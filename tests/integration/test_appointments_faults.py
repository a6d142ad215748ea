"""Booking, rescheduling and cancelling lose nothing when the database fails mid-way (issue 19 §1).

For every database command k of each use case, and both faults (refused before it applies;
applied with its reply lost), the request is sent through the HTTP client and afterwards: the
answer is never a 500, no claim or seat exists without the live appointment that accounts for it
(after the compensations; where the failed command was cleanup after the write, after one repair
sweep with the clock moved past REPAIR_AFTER_SECONDS), and the slot is bookable again by an
honest patient when no appointment stands on it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from bson import ObjectId

from tests.appointments_support import body, book, doctor, patient, put
from tests.faults import Fault, FaultPlan, count_steps, inject

CELL = timedelta(minutes=5)
ACTIVE = ("pending_payment", "pending", "confirmed")


def _cell_time(claim_id: str) -> datetime:
    return datetime.strptime(claim_id.rsplit("|", 1)[1], "%Y-%m-%dT%H:%MZ").replace(tzinfo=UTC)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def orphans(db: Any) -> list[str]:
    """Claims and seats no live appointment accounts for (an oracle written apart from the sweep),
    and cells a live appointment is missing."""
    wrong: list[str] = []
    appts = {a["_id"]: a for a in db["appointments"].find({})}
    held: dict[Any, set[str]] = {}
    for claim in db["appointment_claims"].find({}):
        appt = appts.get(claim["appt"])
        if appt is None or appt["status"] == "cancelled":
            wrong.append(f"{claim['_id']} of a missing or cancelled appointment")
            continue
        if claim.get("kind") == "seat":
            if appt["status"] not in ACTIVE:
                wrong.append(f"{claim['_id']} seat of an ended appointment")
            continue
        start, end = _aware(appt["start"]), _aware(appt["end"])
        owner = claim["_id"].split("|", 1)[0]
        until = end + timedelta(minutes=int(appt.get("bufferMinutes") or 0)) if owner == str(appt["doctor"]) else end
        if owner not in (str(appt["doctor"]), str(appt["patient"])) or not start <= _cell_time(claim["_id"]) < until:
            wrong.append(f"{claim['_id']} outside its appointment's time")
        held.setdefault(appt["_id"], set()).add(claim["_id"])
    for appt in appts.values():
        if appt["status"] not in ACTIVE:
            continue
        start, end = _aware(appt["start"]), _aware(appt["end"])
        buffer = timedelta(minutes=int(appt.get("bufferMinutes") or 0))
        expected = int((end + buffer - start) / CELL) + int((end - start) / CELL)
        if len(held.get(appt["_id"], ())) != expected:
            wrong.append(f"appointment {appt['_id']} holds {len(held.get(appt['_id'], ()))} of {expected} cells")
        seats = db["appointment_claims"].count_documents({"appt": appt["_id"], "kind": "seat"})
        if seats != 2:
            wrong.append(f"appointment {appt['_id']} holds {seats} seats")
    return wrong


def _now() -> datetime:
    from functions.core import clock as core_clock

    return core_clock.now()


OUTBOX = "notifications"  # core.outbox's collection


def settle(db: Any, clock: Any, failed: str, cleanup: tuple[str, ...]) -> None:
    """No leftovers after the compensations; or, when the failed command was cleanup after the
    write (which the answer does not wait for), none after one repair sweep."""
    left = orphans(db)
    if left:
        # the outbox's record and its worker (inline in the tests) run after the write too
        assert failed in cleanup or failed.startswith(f"{OUTBOX}."), f"leftovers after the failure of {failed}: {left}"
        from functions.appointments import jobs
        from functions.core.config import get_settings

        clock.advance(seconds=get_settings().repair_after_seconds + 1)
        jobs.sweep(_now())
        assert orphans(db) == []


def _slot_is_free_again(api: Any, db: Any, doc: dict[str, Any], day: str, time: str) -> None:
    stands = db["appointments"].count_documents({"doctor": doc["_id"], "day": day, "time": time,
                                                 "status": {"$in": list(ACTIVE)}})
    if not stands:
        honest = book(api, patient(), doc, day=day, time=time)
        assert honest.status_code == 201, honest.body


def _not_500(response: Any) -> None:
    assert response.status_code < 500 or response.status_code == 503, response.body


def _walk(action: Any) -> list[tuple[int, Fault]]:
    steps = count_steps(action)
    assert steps, "the use case sent no command"
    return [(k, fault) for k in range(1, len(steps) + 1) for fault in Fault]


def test_a_booking_that_fails_at_any_command_leaves_no_claim_and_the_slot_bookable(api: Any, db: Any,
                                                                                   clock: Any) -> None:
    # Given a clean booking's commands
    plan = _walk(lambda: book(api, patient(), doctor()))
    for k, fault in plan:
        # Given a doctor and a patient
        doc, pat = doctor(), patient()
        # When the k-th command of the booking fails
        with inject(FaultPlan(fail_at=k, fault=fault)) as injected:
            response = book(api, pat, doc)
        # Then the answer is a success or a clear refusal, never a 500
        _not_500(response)
        if not injected.fired:  # the notices after the write send fewer commands on a later run
            continue
        # And no claim or seat outlives the booking's compensations
        assert orphans(db) == [], (k, fault, injected.seen[k - 1])
        if response.status_code == 201:  # a success stands with its claims
            assert db["appointments"].count_documents({"_id": ObjectId(body(response)["appointment"]["_id"])}) == 1
        # And the slot is bookable by an honest patient when no appointment stands on it
        _slot_is_free_again(api, db, doc, "2026-03-03", "09:00")


@pytest.mark.parametrize("use_case", ["reschedule", "cancel"])
def test_a_move_or_a_cancellation_that_fails_at_any_command_leaves_no_stray_claim(api: Any, db: Any, clock: Any,
                                                                                  use_case: str) -> None:
    def scene() -> tuple[dict[str, Any], dict[str, Any], str]:
        doc, pat = doctor(), patient()
        booked = book(api, pat, doc)
        assert booked.status_code == 201, booked.body
        return doc, pat, body(booked)["appointment"]["_id"]

    def send(pat: dict[str, Any], appt_id: str) -> Any:
        if use_case == "cancel":
            return put(api, pat, f"/appointment/{appt_id}/cancel", {"reason": "Change of plans"})
        return put(api, pat, f"/appointment/{appt_id}/reschedule", {"day": "2026-03-03", "time": "10:00"})

    # Given a clean run's commands
    _, pat0, appt0 = scene()
    plan = _walk(lambda: send(pat0, appt0))
    # cleanup after the write: the cells a move left, a cancellation's release (and a cancellation
    # whose reply was lost: applied, its release never sent)
    cleanup = ("appointment_claims.delete_many",) + (("appointments.find_one_and_update",)
                                                     if use_case == "cancel" else ())
    for k, fault in plan:
        # Given a booked appointment
        doc, pat, appt_id = scene()
        # When the k-th command of the move or cancellation fails
        with inject(FaultPlan(fail_at=k, fault=fault)) as injected:
            response = send(pat, appt_id)
        # Then the answer is never a 500
        _not_500(response)
        # And every claim and seat belongs to the live appointment it names (after a repair run
        # where the failed command was cleanup after the write)
        settle(db, clock, injected.seen[k - 1], cleanup)
        # And the appointment stands at one of its two times, or is cancelled and its slot free
        stored = db["appointments"].find_one({"_id": ObjectId(appt_id)})
        assert stored is not None and stored["time"] in ("09:00", "10:00")
        for time in ("09:00", "10:00"):
            _slot_is_free_again(api, db, doc, "2026-03-03", time)
