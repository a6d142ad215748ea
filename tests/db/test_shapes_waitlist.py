"""Conformance of the shapes the waitlist sends (`functions.appointments.stores.waitlist`): seats
under a unique index, an equality on an array of days, the first in line by creation time, the
conditional offer and its undo, and a leave limited to the owner's entries not holding an offer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
DOC, PAT, OTHER = ObjectId(), ObjectId(), ObjectId()


def _entry(n: int, **fields: Any) -> dict[str, Any]:
    return {"_id": n, "patient": PAT, "doctor": DOC, "days": ["2026-03-03", "2026-03-04"], "from": "09:00",
            "to": "12:00", "status": "waiting", "offer": None, "seat": f"{PAT}|{n}",
            "createdAt": NOW + timedelta(seconds=n), **fields}


def test_a_seat_is_held_by_one_entry_and_the_patients_seats_are_read_by_patient(coll: Any) -> None:
    coll.create_index([("seat", ASCENDING)], unique=True)
    coll.insert_one(_entry(1))
    try:
        coll.insert_one({**_entry(2), "seat": f"{PAT}|1"})
        raise AssertionError("the second holder of a seat must be refused")
    except DuplicateKeyError:
        pass
    assert {d["seat"] for d in coll.find({"patient": PAT}, {"seat": 1})} == {f"{PAT}|1"}


def test_the_first_in_line_for_a_day_is_found_by_an_equality_on_the_days_array(coll: Any) -> None:
    coll.insert_many([_entry(3), _entry(1, days=["2026-03-05"]), _entry(2), _entry(4, status="offered"),
                      _entry(5, doctor=OTHER)])
    found = list(coll.find({"doctor": DOC, "days": "2026-03-04", "status": "waiting"},
                           {"patient": 1, "from": 1, "to": 1, "createdAt": 1})
                 .sort([("createdAt", ASCENDING), ("_id", ASCENDING)]).limit(10))
    assert [d["_id"] for d in found] == [2, 3]
    listed = list(coll.find({"patient": PAT}, {"doctor": 1, "days": 1, "from": 1, "to": 1, "status": 1, "offer": 1,
                                               "createdAt": 1}).sort([("createdAt", ASCENDING), ("_id", ASCENDING)])
                  .limit(100))
    assert [d["_id"] for d in listed] == [1, 2, 3, 4, 5] and "seat" not in listed[0]


def test_an_offer_is_taken_once_undone_by_its_appointment_and_finished_with_its_seat_released(coll: Any) -> None:
    coll.insert_one(_entry(1))
    appt = ObjectId()
    offer = {"appointment": appt, "day": "2026-03-03", "time": "09:00", "expiresAt": NOW}

    def take() -> Any:
        return coll.find_one_and_update({"_id": 1, "status": "waiting"},
                                        {"$set": {"status": "offered", "offer": offer, "updatedAt": NOW}},
                                        return_document=ReturnDocument.AFTER)

    assert take()["offer"]["appointment"] == appt
    assert take() is None
    coll.update_one({"_id": 1, "status": "offered", "offer.appointment": ObjectId()},
                    {"$set": {"status": "waiting", "offer": None, "updatedAt": NOW}})
    assert coll.find_one({"_id": 1})["status"] == "offered"  # another offer's undo changes nothing
    done = coll.find_one_and_update({"_id": 1, "status": "offered", "offer.appointment": appt},
                                    {"$set": {"status": "lapsed", "updatedAt": NOW, "seat": "released|1"}},
                                    return_document=ReturnDocument.AFTER)
    assert done["status"] == "lapsed" and done["seat"] == "released|1"


def test_a_leave_removes_only_the_owners_entry_not_holding_an_offer(coll: Any) -> None:
    coll.insert_many([_entry(1), _entry(2, status="offered")])
    leavable = ["waiting", "accepted", "declined", "lapsed", "ended"]
    assert coll.delete_one({"_id": 1, "patient": OTHER, "status": {"$in": leavable}}).deleted_count == 0
    assert coll.delete_one({"_id": 2, "patient": PAT, "status": {"$in": leavable}}).deleted_count == 0
    assert coll.delete_one({"_id": 1, "patient": PAT, "status": {"$in": leavable}}).deleted_count == 1
    assert coll.find_one({"_id": 2, "patient": PAT})["status"] == "offered"
    assert coll.find_one({"_id": 1}) is None


def test_entries_whose_last_window_closed_are_read_by_status_and_ended_once(coll: Any) -> None:
    coll.insert_many([_entry(1, endsAt=NOW - timedelta(hours=1)), _entry(2, endsAt=NOW + timedelta(hours=1)),
                      _entry(3, endsAt=NOW, status="offered"), _entry(4, endsAt=NOW)])
    past = list(coll.find({"status": "waiting", "endsAt": {"$lte": NOW}}, {"offer": 1}).limit(100))
    assert sorted(d["_id"] for d in past) == [1, 4] and "seat" not in past[0]
    assert [d["_id"] for d in coll.find({"status": "offered", "endsAt": {"$lte": NOW}}, {"offer": 1}).limit(100)] == [3]

    def end(n: int) -> int:
        return coll.update_one({"_id": n, "status": "waiting"},
                               {"$set": {"status": "ended", "updatedAt": NOW, "seat": f"released|{n}"}}).modified_count

    assert end(1) == 1 and end(1) == 0 and end(3) == 0
    assert coll.find_one({"_id": 1})["seat"] == "released|1"


def test_the_entries_waiting_for_a_doctor_on_any_day_are_read_first_in_line_first(coll: Any) -> None:
    coll.insert_many([_entry(3), _entry(1, days=["2026-03-09"]), _entry(2, status="offered"), _entry(4, doctor=OTHER)])
    found = list(coll.find({"doctor": DOC, "status": "waiting"},
                           {"patient": 1, "days": 1, "from": 1, "to": 1, "createdAt": 1})
                 .sort([("createdAt", ASCENDING), ("_id", ASCENDING)]).limit(100))
    assert [d["_id"] for d in found] == [1, 3] and found[0]["days"] == ["2026-03-09"] and "seat" not in found[0]


def test_entries_without_an_end_are_found_by_status_and_given_one_once(coll: Any) -> None:
    coll.insert_many([_entry(1), _entry(2, endsAt=NOW), _entry(3, status="offered")])
    assert [d["_id"] for d in coll.find({"status": "waiting", "endsAt": None}, {"untilDay": 1, "to": 1}).limit(100)] \
        == [1]

    def give(n: int) -> int:
        return coll.update_one({"_id": n, "endsAt": None}, {"$set": {"endsAt": NOW}}).modified_count

    assert give(1) == 1 and give(1) == 0 and give(2) == 0
    assert coll.find_one({"_id": 1})["endsAt"] == NOW
