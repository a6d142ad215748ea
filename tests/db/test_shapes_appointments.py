"""Conformance of the shapes the appointments domain sends: claim documents keyed by `_id`
(inserted in one ordered `insert_many`, released by appointment, by write, by cell list or by
day), exclusive transitions, lists that put what matters now first, and the per-status reads
of the sweeper. Each test runs the shape on a small collection and asserts MongoDB's answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.errors import BulkWriteError

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
A1, A2 = ObjectId("65f000000000000000000001"), ObjectId("65f000000000000000000002")
DOC, PAT = ObjectId("65f0000000000000000000d1"), ObjectId("65f0000000000000000000e1")


def _claims(appt: ObjectId, hold: str, *cells: str) -> list[dict[str, Any]]:
    return [{"_id": f"{DOC}|{c}", "appt": appt, "hold": hold, "day": c[:10]} for c in cells]


def test_an_ordered_insert_many_of_claims_stops_at_the_first_cell_already_held(coll: Any) -> None:
    # Given a cell held by one appointment
    coll.insert_many(_claims(A1, "h1", "2026-03-03T04:30Z"))
    # When another claims three cells, the second of which is held
    with pytest.raises(BulkWriteError) as refused:
        coll.insert_many(_claims(A2, "h2", "2026-03-03T04:25Z", "2026-03-03T04:30Z", "2026-03-03T04:35Z"),
                         ordered=True)
    # Then the refusal names that cell's index and only the cells before it went in
    errors = refused.value.details["writeErrors"]
    assert errors[0]["index"] == 1 and errors[0]["code"] == 11000
    assert sorted(d["_id"][-6:] for d in coll.find({"appt": A2})) == ["04:25Z"]
    # And removing that write's claims (by appointment and hold) leaves the other holder alone
    assert coll.delete_many({"appt": A2, "hold": "h2"}).deleted_count == 1
    assert [d["appt"] for d in coll.find({}, {"appt": 1})] == [A1]


def test_a_refused_cells_holder_is_read_by_the_cells_id(coll: Any) -> None:
    # Given a cell held by one appointment (a booking was refused it)
    coll.insert_many(_claims(A1, "h1", "2026-03-03T04:30Z"))
    # When the booking reads who holds it, and a cell nobody holds
    # Then the holder alone comes back; nobody is None
    assert coll.find_one({"_id": f"{DOC}|2026-03-03T04:30Z"}, {"appt": 1}) == {
        "_id": f"{DOC}|2026-03-03T04:30Z", "appt": A1}
    assert coll.find_one({"_id": f"{DOC}|2026-03-03T04:35Z"}, {"appt": 1}) is None


def test_claims_are_released_by_appointment_by_listed_cells_and_by_day(coll: Any) -> None:
    coll.insert_many(_claims(A1, "h1", "2026-03-01T04:30Z", "2026-03-01T04:35Z", "2026-03-03T04:40Z"))
    coll.insert_many(_claims(A2, "h2", "2026-03-03T05:30Z"))
    gone = coll.delete_many({"appt": A1, "_id": {"$in": [f"{DOC}|2026-03-01T04:35Z", f"{DOC}|2026-03-03T05:30Z"]}})
    assert gone.deleted_count == 1  # A2's cell is listed but not A1's: kept
    assert coll.delete_many({"day": "2026-03-01"}).deleted_count == 1
    assert coll.delete_many({"appt": A1}).deleted_count == 1
    assert [d["_id"] for d in coll.find({"appt": A1}, {"_id": 1})] == []
    assert coll.count_documents({}) == 1


def test_a_transition_applies_only_to_an_appointment_unchanged_since_the_request_arrived(coll: Any) -> None:
    start = NOW + timedelta(days=1)
    coll.insert_one({"_id": A1, "patient": PAT, "doctor": DOC, "status": "pending", "start": start,
                     "updatedAt": NOW - timedelta(minutes=1), "statusHistory": []})

    def confirm(now: datetime) -> Any:
        return coll.find_one_and_update(
            {"_id": A1, "doctor": DOC, "status": {"$in": ["pending"]}, "updatedAt": {"$lt": now}},
            {"$set": {"status": "confirmed", "updatedAt": now}, "$push": {"statusHistory": {"status": "confirmed"}}},
            return_document=ReturnDocument.AFTER)

    def cancel(now: datetime) -> Any:
        return coll.find_one_and_update(
            {"_id": A1, "patient": PAT, "status": {"$in": ["pending", "confirmed"]},
             "start": {"$gte": now + timedelta(minutes=120)}, "updatedAt": {"$lt": now}},
            {"$set": {"status": "cancelled", "updatedAt": now}, "$push": {"statusHistory": {"status": "cancelled"}}},
            return_document=ReturnDocument.AFTER)

    assert confirm(NOW)["status"] == "confirmed"
    assert cancel(NOW) is None  # sent at the same moment: refused
    assert cancel(NOW + timedelta(milliseconds=1))["statusHistory"] == [{"status": "confirmed"},
                                                                        {"status": "cancelled"}]


def test_a_move_matches_on_the_exact_start_and_change_time_it_read(coll: Any) -> None:
    read_at = NOW - timedelta(hours=1)
    coll.insert_one({"_id": A1, "patient": PAT, "status": "pending", "start": NOW, "updatedAt": read_at})
    query = {"_id": A1, "patient": PAT, "status": "pending", "start": NOW, "updatedAt": read_at}
    moved = coll.find_one_and_update(query, {"$set": {"start": NOW + timedelta(hours=2), "updatedAt": NOW},
                                             "$push": {"statusHistory": {"action": "reschedule"}}},
                                     return_document=ReturnDocument.AFTER)
    assert moved["start"] == NOW + timedelta(hours=2)
    assert coll.find_one_and_update(query, {"$set": {"status": "x"}}) is None


def test_lists_put_what_is_not_over_first_then_the_past_most_recent_first(coll: Any) -> None:
    for n in range(5):
        coll.insert_one({"_id": n, "patient": PAT, "status": "pending", "start": NOW + timedelta(days=n - 2),
                         "end": NOW + timedelta(days=n - 2, minutes=30), "symptoms": "s", "statusHistory": [],
                         "parties": {"patient": {"name": "P", "contact": "p@x"}}})
    projection = {"statusHistory": 0, "parties.patient.contact": 0, "claims": 0}
    upcoming = list(coll.find({"patient": PAT, "end": {"$gt": NOW}}, projection)
                    .sort([("start", ASCENDING), ("_id", ASCENDING)]).limit(100))
    past = list(coll.find({"patient": PAT, "status": "pending", "end": {"$lte": NOW}}, projection)
                .sort([("start", DESCENDING), ("_id", DESCENDING)]).limit(100))
    assert [d["_id"] for d in upcoming] == [2, 3, 4] and [d["_id"] for d in past] == [1, 0]
    assert upcoming[0]["parties"] == {"patient": {"name": "P"}} and "statusHistory" not in upcoming[0]
    statuses = {"patient": PAT, "status": {"$in": ["pending", "confirmed"]}, "end": {"$gt": NOW}}
    assert coll.count_documents(statuses) == 3


def test_the_patients_active_future_appointments_and_the_sweepers_per_status_reads(coll: Any) -> None:
    coll.insert_many([
        {"_id": 1, "patient": PAT, "doctor": DOC, "status": "pending", "start": NOW + timedelta(hours=1),
         "end": NOW + timedelta(hours=2)},
        {"_id": 2, "patient": PAT, "doctor": DOC, "status": "cancelled", "start": NOW + timedelta(hours=1),
         "end": NOW + timedelta(hours=2)},
        {"_id": 3, "patient": PAT, "doctor": DOC, "status": "confirmed", "start": NOW - timedelta(hours=1),
         "end": NOW - timedelta(minutes=30)},
    ])
    found = list(coll.find({"patient": PAT, "status": {"$in": ["pending", "confirmed"]}, "start": {"$gt": NOW}},
                           {"doctor": 1, "_id": 0}))
    assert found == [{"doctor": DOC}]
    due = list(coll.find({"status": "pending", "start": {"$gt": NOW, "$lte": NOW + timedelta(hours=1)}},
                         {"start": 1, "reminderOffsets": 1, "remindersSent": 1}))
    assert [d["_id"] for d in due] == [1]
    ahead = list(coll.find({"status": "confirmed", "end": {"$gt": NOW}}, {"doctor": 1, "patient": 1, "start": 1,
                                                                          "end": 1, "bufferMinutes": 1}))
    assert ahead == []
    assert [d["_id"] for d in coll.find({"appt": 7}, {"_id": 1})] == []


def test_a_listed_doctor_is_one_whose_active_flag_is_not_false(coll: Any) -> None:
    coll.insert_many([{"_id": 1, "role": "doctor", "approvalStatus": "approved", "active": True},
                      {"_id": 2, "role": "doctor", "approvalStatus": "approved"},
                      {"_id": 3, "role": "doctor", "approvalStatus": "approved", "active": False},
                      {"_id": 4, "role": "doctor", "approvalStatus": "pending", "active": True}])
    listed = {"role": "doctor", "approvalStatus": "approved", "active": {"$ne": False}}
    assert sorted(d["_id"] for d in coll.find(listed, {"_id": 1})) == [1, 2]
    assert coll.find_one({"_id": 2, **listed}, {"name": 1, "availability": 1}) == {"_id": 2}
    assert coll.find_one({"_id": 3, **listed}) is None


def test_limit_seats_are_read_by_id_taken_over_once_ended_and_released_or_moved_by_appointment(coll: Any) -> None:
    from pymongo.errors import DuplicateKeyError, OperationFailure

    # Given one seat held until tomorrow and one whose appointment ended an hour ago
    later, ended = NOW + timedelta(days=1), NOW - timedelta(hours=1)
    coll.insert_many([{"_id": "limit|p|0", "appt": A1, "hold": "h1", "kind": "seat", "until": later, "day": "d"},
                      {"_id": "limit|p|1", "appt": A2, "hold": "h2", "kind": "seat", "until": ended, "day": "d"}])
    # The read by ids answers the seats that exist, with their ends
    found = {d["_id"]: d["until"] for d in coll.find({"_id": {"$in": ["limit|p|0", "limit|p|1", "limit|p|2"]}},
                                                     {"until": 1})}
    assert found == {"limit|p|0": later, "limit|p|1": ended}
    assert [d["_id"] for d in coll.find({"_id": {"$in": ["limit|p|0", "limit|p|1"]}, "until": {"$gt": NOW}},
                                        {"_id": 1})] == ["limit|p|0"]

    def take(seat: str, appt: ObjectId) -> bool:
        try:
            coll.update_one({"_id": seat, "until": {"$lte": NOW}},
                            {"$set": {"appt": appt, "hold": "h3", "kind": "seat", "until": later, "day": "d2"}},
                            upsert=True)
        except (DuplicateKeyError, OperationFailure):
            return False
        return True

    # A held seat is refused, an ended one taken over, an absent one created; each once
    a3 = ObjectId()
    assert take("limit|p|0", a3) is False and take("limit|p|1", a3) is True and take("limit|p|2", a3) is True
    assert take("limit|p|1", ObjectId()) is False
    assert coll.find_one({"_id": "limit|p|1"})["appt"] == a3 and coll.find_one({"_id": "limit|p|0"})["appt"] == A1
    # Moved (the appointment rescheduled) and released (completed) by appointment and kind
    moved = coll.update_many({"appt": a3, "kind": "seat"}, {"$set": {"until": NOW, "day": "d3"}})
    assert moved.matched_count == 2
    assert coll.find_one({"appt": a3, "kind": "seat"}, {"_id": 1}) is not None
    assert coll.delete_many({"appt": a3, "kind": "seat"}).deleted_count == 2
    assert [d["_id"] for d in coll.find({}, {"_id": 1})] == ["limit|p|0"]


def test_the_repair_sweep_reads_recent_claims_by_day_made_and_looks_up_their_holders(coll: Any) -> None:
    # Given claims made today (one a minute ago, one an hour ago) and one made yesterday
    coll.insert_many([
        {"_id": "c|1", "appt": A1, "hold": "h1", "day": "2026-03-03", "at": NOW - timedelta(minutes=1),
         "madeOn": "2026-03-02"},
        {"_id": "c|2", "appt": A2, "hold": "h2", "day": "2026-03-03", "at": NOW - timedelta(hours=1),
         "madeOn": "2026-03-02", "kind": "seat"},
        {"_id": "c|3", "appt": A2, "hold": "h2", "day": "2026-03-03", "at": NOW - timedelta(days=1),
         "madeOn": "2026-03-01"},
    ])
    # When the sweep reads those of today made at or before a cutoff of two minutes ago
    found = list(coll.find({"madeOn": "2026-03-02", "at": {"$lte": NOW - timedelta(minutes=2)}},
                           {"appt": 1, "kind": 1}))
    # Then only the hour-old one comes, with its holder and kind
    assert found == [{"_id": "c|2", "appt": A2, "kind": "seat"}]


def test_holders_are_read_by_id_list_and_a_failed_booking_is_deleted_by_its_id(coll: Any) -> None:
    start = NOW + timedelta(days=1)
    coll.insert_many([{"_id": A1, "doctor": DOC, "patient": PAT, "start": start, "end": start + timedelta(minutes=30),
                       "bufferMinutes": 5, "status": "confirmed", "description": "x"},
                      {"_id": A2, "doctor": DOC, "patient": PAT, "start": start, "end": start, "status": "cancelled"}])
    found = {d["_id"]: d for d in coll.find({"_id": {"$in": [A1, ObjectId()]}},
                                            {"doctor": 1, "patient": 1, "start": 1, "end": 1, "bufferMinutes": 1,
                                             "status": 1})}
    assert list(found) == [A1] and "description" not in found[A1] and found[A1]["bufferMinutes"] == 5
    # A booking's compensation deletes it by id, and again harmlessly
    assert coll.delete_one({"_id": A1}).deleted_count == 1
    assert coll.delete_one({"_id": A1}).deleted_count == 0
    assert [d["_id"] for d in coll.find({}, {"_id": 1})] == [A2]


def test_a_doctors_busy_times_are_read_by_doctor_and_the_listed_local_days_then_by_start(coll: Any) -> None:
    # Given a doctor's appointments on the day before, the day and the day after, another doctor's, a cancelled one
    day = NOW.date()
    def appt(n: int, doctor: ObjectId, start: datetime, status: str = "confirmed") -> dict[str, Any]:
        return {"_id": n, "doctor": doctor, "day": start.date().isoformat(), "start": start,
                "end": start + timedelta(minutes=30), "status": status}
    coll.insert_many([appt(1, DOC, NOW - timedelta(days=1)), appt(2, DOC, NOW - timedelta(hours=11)),
                      appt(3, DOC, NOW), appt(4, DOC, NOW + timedelta(days=1)), appt(5, PAT, NOW),
                      appt(6, DOC, NOW + timedelta(hours=1), "cancelled")])
    days = [(day - timedelta(days=1)).isoformat(), day.isoformat()]
    # When the busy window (reaching back into the day before) is read by doctor, days, start and status
    found = coll.find({"doctor": DOC, "day": {"$in": days}, "start": {"$gte": NOW - timedelta(hours=12),
                                                                     "$lt": NOW + timedelta(hours=12)},
                       "status": {"$in": ["pending", "confirmed"]}}, {"_id": 0, "start": 1, "end": 1})
    # Then only the doctor's active appointments on those days within the window come back, without ids
    assert sorted(d["start"] for d in found) == [NOW - timedelta(hours=11), NOW]
    assert all(set(d) == {"start", "end"} for d in
               coll.find({"doctor": DOC, "day": {"$in": days[1:]}}, {"_id": 0, "start": 1, "end": 1}))


def test_lists_bound_by_start_walk_the_party_start_id_index_and_keep_what_is_in_progress(coll: Any) -> None:
    # Given the list index and a patient's appointments: two past, one in progress, two ahead, and
    # another patient's one (the list reads "not over" as a start within the longest appointment)
    coll.create_index([("patient", ASCENDING), ("start", ASCENDING), ("_id", ASCENDING)], name="patient_start_id")
    starts = {1: -3000, 2: -60, 3: -20, 4: 60, 5: 60 * 24}
    for n, minutes in starts.items():
        start = NOW + timedelta(minutes=minutes)
        coll.insert_one({"_id": n, "patient": PAT, "status": "confirmed" if n % 2 else "pending", "start": start,
                         "end": start + timedelta(minutes=30)})
    coll.insert_one({"_id": 6, "patient": DOC, "status": "pending", "start": NOW, "end": NOW + timedelta(minutes=30)})
    earliest = NOW - timedelta(minutes=240)
    # When the upcoming and past reads are sent with their start bounds (and with a status filter)
    upcoming = coll.find({"patient": PAT, "start": {"$gt": earliest}, "end": {"$gt": NOW}}, {"_id": 1})
    past = coll.find({"patient": PAT, "start": {"$lt": NOW}, "end": {"$lte": NOW}}, {"_id": 1})
    pending = coll.find({"patient": PAT, "status": "pending", "start": {"$gt": earliest}, "end": {"$gt": NOW}})
    either = coll.find({"patient": PAT, "status": {"$in": ["pending", "confirmed"]}, "start": {"$lt": NOW},
                        "end": {"$lte": NOW}}, {"_id": 1})
    # Then the one in progress is upcoming, the past come most recent first, a page stops where asked
    assert [d["_id"] for d in upcoming.sort([("start", ASCENDING), ("_id", ASCENDING)]).limit(100)] == [3, 4, 5]
    assert [d["_id"] for d in past.sort([("start", DESCENDING), ("_id", DESCENDING)]).limit(1)] == [2]
    assert [d["_id"] for d in pending.sort([("start", ASCENDING), ("_id", ASCENDING)]).limit(100)] == [4]
    assert [d["_id"] for d in either.sort([("start", DESCENDING), ("_id", DESCENDING)]).limit(100)] == [2, 1]
    assert coll.count_documents({"patient": PAT}) == 5
