"""Doctor availability, time off, and GET /appointment/slots/:doctorId/:date."""

import json

import pytest

from tests.appointments_support import (
    body,
    book,
    doctor,
    get,
    patient,
    put,
    utc,
)
from tests.factories import json_headers

DEFAULT_DAY = [f"{h:02d}:{m:02d}" for h in range(9, 17) for m in (0, 30)]


def slots(client, doc, day):
    return client.http.get(f"/api/v1/appointment/slots/{doc['_id']}/{day}")


def test_a_doctor_who_set_nothing_gets_the_reference_schedule(api):
    doc = doctor()
    response = slots(api, doc, "2026-03-03")
    assert response.status_code == 200
    data = body(response)
    assert data["success"] is True and data["date"] == "2026-03-03"
    assert data["doctor"] == {"id": str(doc["_id"]), "name": doc["name"], "speciality": "general"}
    assert data["availableSlots"] == DEFAULT_DAY
    assert data["slots"][0] == {"start": "2026-03-03T03:30:00.000Z", "end": "2026-03-03T04:00:00.000Z",
                                "label": "09:00"}
    assert len(data["slots"]) == 16


def test_default_availability_is_reported_to_the_doctor(api):
    doc = doctor()
    data = body(get(api, doc, "/doctor/availability"))
    assert data["availability"]["isDefault"] is True
    assert data["availability"]["timezone"] == "Asia/Kolkata"
    assert data["availability"]["weeklyHours"]["sunday"] == [{"start": "09:00", "end": "17:00"}]
    assert (data["availability"]["slotMinutes"], data["availability"]["minNoticeMinutes"]) == (30, 60)
    assert data["timeOff"] == []


def test_today_loses_the_past_and_the_notice(api):
    # now = 15:30 IST; notice 60 min -> 16:30 is the first slot left
    assert body(slots(api, doctor(), "2026-03-02"))["availableSlots"] == ["16:30"]


def test_past_days_and_days_beyond_the_horizon_have_no_slots(api):
    doc = doctor()
    assert body(slots(api, doc, "2026-03-01"))["availableSlots"] == []
    assert len(body(slots(api, doc, "2026-04-01"))["availableSlots"]) == 16  # 30 days ahead
    assert body(slots(api, doc, "2026-04-02"))["availableSlots"] == []


@pytest.mark.parametrize("day", ["2030-02-31", "2026-13-01", "2026-3-3", "tomorrow", "2026-03-03x"])
def test_impossible_or_malformed_dates_are_400(api, day):
    response = slots(api, doctor(), day)
    assert response.status_code == 400
    assert body(response)["code"] == "INVALID_DATE"


def test_unknown_unapproved_or_non_doctor_ids_are_404(api):
    from bson import ObjectId

    for target in ({"_id": ObjectId()}, doctor(approved=False), patient(), {"_id": "not-an-id"}):
        assert slots(api, target, "2026-03-03").status_code == 404


def test_taken_slots_disappear_and_cancelled_ones_come_back(api):
    doc, pat = doctor(), patient()
    appt = body(book(api, pat, doc, time="10:00"))["appointment"]
    assert "10:00" not in body(slots(api, doc, "2026-03-03"))["availableSlots"]
    put(api, pat, f"/appointment/{appt['_id']}/cancel", {"reason": "other plans"})
    assert "10:00" in body(slots(api, doc, "2026-03-03"))["availableSlots"]


def test_weekly_hours_with_several_ranges_and_a_buffer(api):
    # Given Tuesday 09:00-12:00 and 14:00-16:00 in 45-minute slots with a 15-minute buffer
    doc = doctor()
    payload = {"weeklyHours": {"tuesday": [{"start": "14:00", "end": "16:00"}, {"start": "9:00", "end": "12:00"}]},
               "slotMinutes": 45, "bufferMinutes": 15, "minNoticeMinutes": 0, "horizonDays": 60}
    response = put(api, doc, "/doctor/availability", payload)
    assert response.status_code == 200, response.body
    stored = body(response)["availability"]
    assert stored["weeklyHours"]["tuesday"] == [{"start": "09:00", "end": "12:00"}, {"start": "14:00", "end": "16:00"}]
    assert stored["weeklyHours"]["monday"] == [] and stored["isDefault"] is False
    # Then Tuesday offers one slot per hour and Wednesday nothing
    assert body(slots(api, doc, "2026-03-03"))["availableSlots"] == ["09:00", "10:00", "11:00", "14:00", "15:00"]
    assert body(slots(api, doc, "2026-03-04"))["availableSlots"] == []
    assert body(get(api, doc, "/doctor/availability"))["availability"]["slotMinutes"] == 45


@pytest.mark.parametrize("payload", [
    {"weeklyHours": {"monday": [{"start": "09:00", "end": "12:00"}, {"start": "11:00", "end": "13:00"}]}},
    {"weeklyHours": {"monday": [{"start": "12:00", "end": "09:00"}]}},
    {"weeklyHours": {"funday": []}},
    {"slotMinutes": 7},
    {"slotMinutes": 0},
    {"horizonDays": 0},
    {"weeklyHours": {"monday": [{"start": "25:00", "end": "26:00"}]}},
    {"role": "admin"},
])
def test_invalid_availability_is_400(api, payload):
    response = put(api, doctor(), "/doctor/availability", payload)
    assert response.status_code == 400, response.body


def test_only_approved_doctors_manage_availability(api):
    assert put(api, patient(), "/doctor/availability", {}).status_code == 403
    assert put(api, doctor(approved=False), "/doctor/availability", {}).status_code == 403
    assert get(api, patient(), "/doctor/availability").status_code == 403


def test_time_off_removes_slots_until_deleted(api):
    doc = doctor()
    # Given time off on Tuesday from 10:15 to 12:00 local (naive = the doctor's zone)
    response = api.http.post("/api/v1/doctor/time-off", headers=json_headers(doc), body=json.dumps(
        {"start": "2026-03-03T10:15:00", "end": "2026-03-03T12:00:00", "reason": "Clinic"}).encode())
    assert response.status_code == 201, response.body
    entry = body(response)["timeOff"]
    assert entry["start"] == "2026-03-03T04:45:00.000Z"
    # Then 10:00 (overlaps 10:15) to 11:30 are gone
    offered = body(slots(api, doc, "2026-03-03"))["availableSlots"]
    assert [t for t in DEFAULT_DAY if t not in offered] == ["10:00", "10:30", "11:00", "11:30"]
    assert body(get(api, doc, "/doctor/availability"))["timeOff"][0]["_id"] == entry["_id"]
    # When it is deleted, they come back
    assert api.http.delete(f"/api/v1/doctor/time-off/{entry['_id']}", headers=json_headers(doc)).status_code == 200
    assert body(slots(api, doc, "2026-03-03"))["availableSlots"] == DEFAULT_DAY
    assert api.http.delete(f"/api/v1/doctor/time-off/{entry['_id']}", headers=json_headers(doc)).status_code == 404


def test_time_off_with_offsets_and_bad_ranges(api):
    doc = doctor()

    def post(payload):
        return api.http.post("/api/v1/doctor/time-off", headers=json_headers(doc), body=json.dumps(payload).encode())

    assert post({"start": "2026-03-05T00:00:00Z", "end": "2026-03-06T00:00:00Z"}).status_code == 201
    assert post({"start": "2026-03-05T10:00:00Z", "end": "2026-03-05T09:00:00Z"}).status_code == 422
    assert post({"start": "2026-02-01T10:00:00Z", "end": "2026-02-02T09:00:00Z"}).status_code == 422  # over
    assert post({"start": "later", "end": "2026-03-05T09:00:00Z"}).status_code == 400
    # 2026-03-05 00:00Z-24:00Z is 05:30-05:30 IST: the whole working day of the 5th is gone
    assert body(slots(api, doc, "2026-03-05"))["availableSlots"] == []
    assert other_doctor_cannot_delete(api, doc)


def other_doctor_cannot_delete(api, doc):
    entry_id = body(get(api, doc, "/doctor/availability"))["timeOff"][0]["_id"]
    response = api.http.delete(f"/api/v1/doctor/time-off/{entry_id}", headers=json_headers(doctor()))
    return response.status_code == 404


def test_a_doctor_not_accepting_bookings_offers_nothing(api):
    doc = doctor()
    put(api, doc, "/doctor/availability", {"acceptingBookings": False})
    assert body(slots(api, doc, "2026-03-03"))["availableSlots"] == []
    response = book(api, patient(), doc)
    assert response.status_code == 422 and body(response)["code"] == "NOT_ACCEPTING"


def test_the_reference_availability_flag_is_honoured(api):
    # D-46: the reference stored `availablity: "false"` and ignored it
    assert body(slots(api, doctor(availablity="false"), "2026-03-03"))["availableSlots"] == []


class TestDaylightSaving:
    """A doctor in America/New_York, 09:00-17:00 local, on both 2026 transition days."""

    def test_spring_forward_day_keeps_local_hours_and_shifts_utc(self, api, clock):
        clock.set(utc(2026, 3, 6, 12))
        doc = doctor(timezone="America/New_York")
        before, on = body(slots(api, doc, "2026-03-07")), body(slots(api, doc, "2026-03-08"))
        assert before["availableSlots"] == on["availableSlots"] == DEFAULT_DAY
        assert before["slots"][0]["start"] == "2026-03-07T14:00:00.000Z"  # EST, UTC-5
        assert on["slots"][0]["start"] == "2026-03-08T13:00:00.000Z"      # EDT, UTC-4
        assert on["slots"][-1]["end"] == "2026-03-08T21:00:00.000Z"

    def test_fall_back_day_keeps_local_hours_and_shifts_utc(self, api, clock):
        clock.set(utc(2026, 10, 30, 12))
        doc = doctor(timezone="America/New_York")
        before, on = body(slots(api, doc, "2026-10-31")), body(slots(api, doc, "2026-11-01"))
        assert before["availableSlots"] == on["availableSlots"] == DEFAULT_DAY
        assert before["slots"][0]["start"] == "2026-10-31T13:00:00.000Z"  # EDT
        assert on["slots"][0]["start"] == "2026-11-01T14:00:00.000Z"      # EST

    def test_night_hours_skip_the_missing_hour_and_book_correctly(self, api, clock):
        clock.set(utc(2026, 3, 6, 12))
        doc = doctor(timezone="America/New_York")
        put(api, doc, "/doctor/availability", {"weeklyHours": {"sunday": [{"start": "00:00", "end": "04:00"}]},
                                               "horizonDays": 30})
        offered = body(slots(api, doc, "2026-03-08"))
        assert offered["availableSlots"] == ["00:00", "00:30", "01:00", "01:30", "03:00", "03:30"]
        assert book(api, patient(), doc, day="2026-03-08", time="02:30").status_code == 422
        booked = body(book(api, patient(), doc, day="2026-03-08", time="03:00"))["appointment"]
        assert booked["start"] == "2026-03-08T07:00:00.000Z"


def test_time_off_over_booked_appointments_names_them_for_the_doctor(api):
    # Given two bookings on Tuesday, at 10:30 and at 14:00 local, and a cancelled one at 11:00
    doc = doctor()
    inside = body(book(api, patient(), doc, time="10:30"))["appointment"]
    outside = body(book(api, patient(), doc, time="14:00"))["appointment"]
    cancelled = body(book(api, patient(), doc, time="11:00"))["appointment"]
    assert put(api, doc, f"/appointment/{cancelled['_id']}/cancel", {"reason": "moved"}).status_code == 200
    # When the doctor takes 10:15-12:00 off
    response = api.http.post("/api/v1/doctor/time-off", headers=json_headers(doc), body=json.dumps(
        {"start": "2026-03-03T10:15:00", "end": "2026-03-03T12:00:00", "reason": "Clinic"}).encode())
    # Then the answer names exactly the active appointment inside it, without patient details
    assert response.status_code == 201
    affected = body(response)["affectedAppointments"]
    assert [a["_id"] for a in affected] == [inside["_id"]]
    assert outside["_id"] not in {a["_id"] for a in affected}
    assert set(affected[0]) == {"_id", "start", "end", "status", "day", "time"}


def test_two_hour_slots_on_the_spring_forward_night_never_overlap_in_real_time(api, db):
    # Given a New York doctor with two-hour slots from 01:00 to 07:00 on Sundays
    doc = doctor(timezone="America/New_York",
                 availability={"weeklyHours": {"sunday": [{"start": "01:00", "end": "07:00"}]}, "slotMinutes": 120})
    # When the slots of 2026-03-08 (clocks go from 02:00 EST to 03:00 EDT) are listed
    data = body(get(api, None, f"/appointment/slots/{doc['_id']}/2026-03-08"))
    # Then 03:00 EDT is not offered: the 01:00 EST slot runs until 04:00 EDT
    assert data["availableSlots"] == ["01:00", "05:00"]
    assert data["slots"][0]["end"] == "2026-03-08T08:00:00.000Z"
    refused = book(api, patient(), doc, day="2026-03-08", time="03:00")
    assert refused.status_code == 422 and body(refused)["code"] == "NOT_A_SLOT"
    assert book(api, patient(), doc, day="2026-03-08", time="01:00").status_code == 201
