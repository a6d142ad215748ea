"""The repair sweep (issue 19 §1): claims and seats no live appointment accounts for, older than
REPAIR_AFTER_SECONDS, are released by the appointments sweep; live ones never are, not even
while bookings and cancellations run at the same moment."""

from __future__ import annotations

import json
from typing import Any

from bson import ObjectId

from tests.appointments_support import body, book, doctor, patient, put
from tests.factories import bearer
from tests.integration.test_appointments_faults import orphans
from tests.lambda_race import API, race_calls


def _sweep() -> dict[str, int]:
    from functions.appointments import jobs
    from functions.core import clock

    return dict(jobs.sweep(clock.now()))


def _past_threshold(clock: Any) -> None:
    from functions.core.config import get_settings

    clock.advance(seconds=get_settings().repair_after_seconds + 1)


def _dead_booking(pat: dict[str, Any], doc: dict[str, Any], time: str = "09:00") -> ObjectId:
    """What a Lambda that died between its claims and its insert leaves: the claims and seats of
    an appointment that was never stored (the booking's first step, run alone)."""
    from functions.appointments import claims
    from functions.appointments.grid import check_bookable, parse_day, time_off_intervals
    from functions.appointments.slots import bookable
    from functions.core import clock

    now = clock.now()
    av, tz = bookable(doc)
    slot = check_bookable(parse_day("2026-03-03", now), time, tz, av, now=now, time_off=time_off_intervals(doc))
    ghost = ObjectId()
    claims.claim_booking(pat["_id"], doc["_id"], ghost, slot.start, slot.end, av.buffer_minutes, now)
    return ghost


def test_claims_of_a_booking_that_died_are_released_once_old_and_the_slot_books_again(api: Any, db: Any,
                                                                                      clock: Any) -> None:
    # Given a booking that died after taking its claims: the slot refuses everyone
    doc, ghost_patient = doctor(), patient()
    ghost = _dead_booking(ghost_patient, doc)
    held = db["appointment_claims"].count_documents({"appt": ghost})
    assert held > 2
    assert book(api, patient(), doc).status_code == 409
    # When the sweep runs while those claims could still be a request in flight
    first = _sweep()
    # Then it leaves them alone
    assert first["claimsRepaired"] == 0
    assert db["appointment_claims"].count_documents({"appt": ghost}) == held
    # When it runs once they are older than REPAIR_AFTER_SECONDS
    _past_threshold(clock)
    second = _sweep()
    # Then every one of them is released and counted, and an honest patient books the slot
    assert second["claimsRepaired"] == held
    assert db["appointment_claims"].count_documents({"appt": ghost}) == 0
    honest = book(api, patient(), doc)
    assert honest.status_code == 201, honest.body
    # And running it again (the booking's claims now old too) releases nothing: idempotent
    _past_threshold(clock)
    assert _sweep()["claimsRepaired"] == 0
    assert orphans(db) == []


def test_live_appointments_and_unpaid_holds_keep_their_claims_and_leftovers_of_moves_and_cancels_go(
        api: Any, db: Any, clock: Any, monkeypatch: Any) -> None:
    from functions.appointments import claims
    from functions.core import config

    # Given a confirmed appointment, an unpaid hold, and a cancelled one whose release was lost
    doc = doctor()
    live = body(book(api, patient(), doc, time="09:00"))["appointment"]
    monkeypatch.setenv("REQUIRE_APPOINTMENT_PAYMENT", "true")
    config.reset_settings()
    hold = body(book(api, patient(), doc, time="10:00"))["appointment"]
    assert hold["status"] == "pending_payment"
    monkeypatch.setenv("REQUIRE_APPOINTMENT_PAYMENT", "false")
    config.reset_settings()
    canceller = patient()
    gone = body(book(api, canceller, doc, time="11:00"))["appointment"]
    kept = list(db["appointment_claims"].find({"appt": ObjectId(gone["_id"])}))
    assert put(api, canceller, f"/appointment/{gone['_id']}/cancel", {"reason": "Change of plans"}).status_code == 200
    db["appointment_claims"].insert_many(kept)  # as if its release had failed
    # And cells a move left behind (the live appointment also claims 12:00's cells)
    stray = claims.claim_doc(f"{doc['_id']}|2026-03-03T06:30Z", ObjectId(live["_id"]), "stray", clock())
    db["appointment_claims"].insert_one(stray)
    live_claims = db["appointment_claims"].count_documents({"appt": ObjectId(live["_id"])}) - 1
    hold_claims = db["appointment_claims"].count_documents({"appt": ObjectId(hold["_id"])})
    # When the sweep runs past the threshold
    _past_threshold(clock)
    result = _sweep()
    # Then the cancelled appointment's claims and the stray cell are released, nothing else
    assert result["claimsRepaired"] == len(kept) + 1
    assert db["appointment_claims"].count_documents({"appt": ObjectId(live["_id"])}) == live_claims
    assert db["appointment_claims"].count_documents({"appt": ObjectId(hold["_id"])}) == hold_claims
    assert orphans(db) == []
    # And the cancelled slot books again
    assert book(api, patient(), doc, time="11:00").status_code == 201


SWEEPS = 15
CHURNERS = 4


def _invoke(method: str, path: str, who: dict[str, Any], payload: Any) -> int:
    return _call(method, path, who, payload)[0]


def _call(method: str, path: str, who: dict[str, Any], payload: Any) -> tuple[int, dict[str, Any]]:
    from chalice.local import LambdaContext, LambdaEventConverter, RouteMatcher

    from app import app

    headers = {"content-type": "application/json", **{k.lower(): v for k, v in bearer(who).items()}}
    converter = LambdaEventConverter(RouteMatcher(list(app.routes)), app.api.binary_types)
    event = converter.create_lambda_event(method, API + path, headers, json.dumps(payload).encode())
    response = app(event, LambdaContext("api_handler", 512))
    return int(response["statusCode"]), json.loads(response["body"])


def test_the_sweep_running_among_bookings_and_cancellations_never_strips_a_live_appointment(
        api: Any, db: Any, clock: Any, chalice_app: Any) -> None:
    # Given a doctor with two dead bookings' claims (09:00, 09:30) and two live appointments
    # booked earlier (10:00, 10:30), all older than REPAIR_AFTER_SECONDS by the time of the race
    doc = doctor()
    for time in ("09:00", "09:30"):
        _dead_booking(patient(), doc, time)
    owners = [patient(), patient()]
    live = [body(book(api, owners[i], doc, time=t))["appointment"]["_id"] for i, t in enumerate(("10:00", "10:30"))]
    _past_threshold(clock)
    newcomers = [patient() for _ in range(8)]
    times = ["09:00", "09:30", "11:00", "11:30", "12:00", "12:30", "09:00", "11:00"]
    churners = [patient() for _ in range(CHURNERS)]

    def churn(n: int) -> list[int]:
        """Book afternoon slots of its own one after the other: bookings in flight (claimed, not
        yet stored) for as long as the sweepers run. (A cancellation at the same frozen instant
        as its booking would be refused, so the cancellations are the owners' above.)"""
        return [_invoke("POST", "/appointment/new", churners[n],
                        {"doctor": str(doc["_id"]), "description": "check-up", "symptoms": "cough",
                         "day": "2026-03-03", "time": f"{13 + n}:{30 * j:02d}"}) for j in range(2)]

    def work(i: int) -> Any:
        if i < 2:  # two sweepers, each running again and again while the requests are in flight
            return sum(_sweep()["claimsRepaired"] for _ in range(SWEEPS))
        if i < 4:  # the live appointments' owners cancel
            return _invoke("PUT", f"/appointment/{live[i - 2]}/cancel", owners[i - 2], {"reason": "Change of plans"})
        if i >= 4 + len(newcomers):
            return churn(i - 4 - len(newcomers))
        n = i - 4  # new bookings: some of the ghost-blocked slots, some free ones
        return _invoke("POST", "/appointment/new", newcomers[n],
                       {"doctor": str(doc["_id"]), "description": "check-up", "symptoms": "cough",
                        "day": "2026-03-03", "time": times[n]})

    # When the sweep runs at the same moment as the cancellations and bookings, each in its own container
    results = race_calls(work, 4 + len(newcomers) + CHURNERS)
    # Then the ghosts were released by the sweeps (once between them), the cancellations and the
    # bookings of free slots succeeded, and nothing failed with a 500
    assert sum(results[:2]) > 0
    assert results[2:4] == [200, 200]
    statuses = results[4:4 + len(newcomers)]
    assert all(r == [201, 201] for r in results[4 + len(newcomers):]), results
    assert all(s in (201, 409) for s in statuses), statuses
    by_time: dict[str, list[int]] = {}
    for time, status in zip(times, statuses, strict=True):
        by_time.setdefault(time, []).append(status)
    assert all(by_time[t].count(201) == 1 for t in ("11:00", "11:30", "12:00", "12:30")), by_time
    assert all(by_time[t].count(201) <= 1 for t in ("09:00", "09:30")), by_time
    # And every live appointment holds all its claims, and no claim without one is left once the
    # sweep has run again (the bookings that lost to a ghost see a free slot again)
    assert orphans(db) == []
    _past_threshold(clock)
    _sweep()
    assert orphans(db) == []
    for time in ("09:00", "09:30"):
        if not db["appointments"].count_documents({"doctor": doc["_id"], "time": time, "status": "confirmed"}):
            assert book(api, patient(), doc, time=time).status_code == 201
