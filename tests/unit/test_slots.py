"""Slot computation as pure functions: ranges, buffers, time off, notice, horizon, DST, past."""

from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from functions.appointments.grid import (
    DEFAULT_AVAILABILITY,
    Availability,
    Interval,
    availability_from_doc,
    busy_window,
    candidate_slots,
    check_bookable,
    claim_ids,
    compute_slots,
    local_to_utc,
    normalize_time,
    parse_day,
    reminder_offsets,
    slot_key,
)
from functions.core.errors import BadRequest, Unprocessable

KOLKATA = ZoneInfo("Asia/Kolkata")
NEW_YORK = ZoneInfo("America/New_York")
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # Monday, 15:30 in Kolkata
TUESDAY = date(2026, 3, 3)


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def labels(slots):
    return [s.label for s in slots]


def weekly(ranges, *days):
    return {day: tuple(ranges) for day in days or
            ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")}


def test_default_schedule_is_every_day_nine_to_five_in_half_hours():
    slots = compute_slots(date(2026, 3, 8), KOLKATA, DEFAULT_AVAILABILITY, now=NOW)  # a Sunday
    assert labels(slots) == [f"{h:02d}:{m:02d}" for h in range(9, 17) for m in (0, 30)]
    assert slots[0].start == utc(2026, 3, 8, 3, 30) and slots[0].end == utc(2026, 3, 8, 4, 0)
    assert slots[-1].label == "16:30" and slots[-1].end == utc(2026, 3, 8, 11, 30)


def test_several_ranges_per_day_and_closed_days():
    av = Availability(weekly={"tuesday": ((9 * 60, 11 * 60), (14 * 60, 15 * 60 + 30))})
    assert labels(compute_slots(TUESDAY, KOLKATA, av, now=NOW)) == ["09:00", "09:30", "10:00", "10:30", "14:00",
                                                                     "14:30", "15:00"]
    assert compute_slots(date(2026, 3, 4), KOLKATA, av, now=NOW) == []


def test_a_slot_must_fit_inside_its_range():
    av = Availability(weekly=weekly([(9 * 60, 10 * 60 + 15)]), slot_minutes=30)
    assert labels(candidate_slots(TUESDAY, KOLKATA, av)) == ["09:00", "09:30"]


def test_buffer_spaces_the_grid():
    av = Availability(weekly=weekly([(9 * 60, 12 * 60)]), slot_minutes=45, buffer_minutes=15)
    assert labels(candidate_slots(TUESDAY, KOLKATA, av)) == ["09:00", "10:00", "11:00"]


def test_buffer_keeps_a_gap_around_existing_appointments():
    # An appointment 10:00-10:30 (kept from an older grid); with a 15-minute buffer and a 30+15 grid
    av = Availability(weekly=weekly([(9 * 60, 12 * 60)]), slot_minutes=30, buffer_minutes=15, min_notice_minutes=0)
    busy = [Interval(local_to_utc(TUESDAY, 10 * 60, KOLKATA), local_to_utc(TUESDAY, 10 * 60 + 30, KOLKATA))]
    # grid: 09:00, 09:45, 10:30, 11:15; 09:45-10:15 overlaps; 10:30 starts right at its end (gap 0 < 15)
    assert labels(compute_slots(TUESDAY, KOLKATA, av, now=NOW, busy=busy)) == ["09:00", "11:15"]


def test_taken_slots_are_removed():
    busy = [Interval(utc(2026, 3, 3, 4, 0), utc(2026, 3, 3, 4, 30))]  # 09:30 IST
    slots = compute_slots(TUESDAY, KOLKATA, DEFAULT_AVAILABILITY, now=NOW, busy=busy)
    assert "09:30" not in labels(slots) and len(slots) == 15


def test_time_off_removes_every_overlapping_slot():
    off = [Interval(utc(2026, 3, 3, 4, 15), utc(2026, 3, 3, 5, 30))]  # 09:45-11:00 IST
    slots = compute_slots(TUESDAY, KOLKATA, DEFAULT_AVAILABILITY, now=NOW, time_off=off)
    missing = sorted(set(labels(candidate_slots(TUESDAY, KOLKATA, DEFAULT_AVAILABILITY))) - set(labels(slots)))
    assert missing == ["09:30", "10:00", "10:30"]


def test_time_off_touching_a_slot_edge_does_not_remove_it():
    off = [Interval(utc(2026, 3, 3, 3, 0), utc(2026, 3, 3, 3, 30))]  # ends exactly at 09:00 IST
    assert "09:00" in labels(compute_slots(TUESDAY, KOLKATA, DEFAULT_AVAILABILITY, now=NOW, time_off=off))


def test_minimum_notice_removes_slots_that_start_too_soon():
    # now = 15:30 IST: with 60 min notice 16:30 is the first; with 0, 16:00 (still ahead)
    today = date(2026, 3, 2)
    assert labels(compute_slots(today, KOLKATA, DEFAULT_AVAILABILITY, now=NOW)) == ["16:30"]
    no_notice = Availability(weekly=DEFAULT_AVAILABILITY.weekly, min_notice_minutes=0)
    assert labels(compute_slots(today, KOLKATA, no_notice, now=NOW)) == ["15:30", "16:00", "16:30"]  # 15:30 = now
    long_notice = Availability(weekly=DEFAULT_AVAILABILITY.weekly, min_notice_minutes=24 * 60)
    assert labels(compute_slots(TUESDAY, KOLKATA, long_notice, now=NOW))[0] == "15:30"


def test_horizon_counts_days_from_the_doctors_today():
    av = Availability(weekly=DEFAULT_AVAILABILITY.weekly, horizon_days=7)
    assert compute_slots(date(2026, 3, 9), KOLKATA, av, now=NOW) != []
    assert compute_slots(date(2026, 3, 10), KOLKATA, av, now=NOW) == []


def test_past_days_have_no_slots():
    assert compute_slots(date(2026, 3, 1), KOLKATA, DEFAULT_AVAILABILITY, now=NOW) == []
    assert compute_slots(date(2025, 3, 3), KOLKATA, DEFAULT_AVAILABILITY, now=NOW) == []


def test_the_doctors_today_is_in_their_zone():
    # 2026-03-02 20:00 UTC is already the 3rd in Kolkata (01:30): the 3rd is "today" there
    late = utc(2026, 3, 2, 20, 0)
    assert compute_slots(date(2026, 3, 2), KOLKATA, DEFAULT_AVAILABILITY, now=late) == []
    assert len(compute_slots(TUESDAY, KOLKATA, DEFAULT_AVAILABILITY, now=late)) == 16


def test_not_accepting_means_no_slots():
    av = Availability(weekly=DEFAULT_AVAILABILITY.weekly, accepting=False)
    assert compute_slots(TUESDAY, KOLKATA, av, now=NOW) == []


# ---------------------------------------------------------------- daylight saving (America/New_York, 2026)

EARLY = utc(2026, 3, 6)  # two days before spring forward
LATE = utc(2026, 10, 30)  # two days before fall back


def test_spring_forward_keeps_wall_clock_hours_and_moves_utc():
    before = compute_slots(date(2026, 3, 7), NEW_YORK, DEFAULT_AVAILABILITY, now=EARLY)
    on = compute_slots(date(2026, 3, 8), NEW_YORK, DEFAULT_AVAILABILITY, now=EARLY)
    assert labels(before) == labels(on) and len(on) == 16
    assert before[0].start == utc(2026, 3, 7, 14, 0) and on[0].start == utc(2026, 3, 8, 13, 0)
    assert all(s.end - s.start == timedelta(minutes=30) for s in on)


def test_spring_forward_never_offers_the_missing_hour():
    night = Availability(weekly=weekly([(0, 4 * 60)]), horizon_days=60)
    slots = compute_slots(date(2026, 3, 8), NEW_YORK, night, now=EARLY)
    assert labels(slots) == ["00:00", "00:30", "01:00", "01:30", "03:00", "03:30"]
    assert slots[3].end == slots[4].start == utc(2026, 3, 8, 7, 0)  # 01:30 EST ends when 03:00 EDT begins
    assert local_to_utc(date(2026, 3, 8), 2 * 60 + 30, NEW_YORK) is None
    with pytest.raises(Unprocessable) as err:
        check_bookable(date(2026, 3, 8), "02:30", NEW_YORK, night, now=EARLY)
    assert err.value.code == "NOT_A_SLOT"


def test_spring_forward_never_offers_slots_that_overlap_in_absolute_time():
    # Given two-hour slots from 01:00 on the night New York springs forward
    night = Availability(weekly=weekly([(60, 7 * 60)]), slot_minutes=120, horizon_days=60)
    # When the grid is computed
    slots = compute_slots(date(2026, 3, 8), NEW_YORK, night, now=EARLY)
    # Then 03:00 EDT (07:00Z) is left out: the 01:00 EST slot runs until 08:00Z
    assert labels(slots) == ["01:00", "05:00"]
    assert all(a.end <= b.start for a, b in pairwise(slots))
    with pytest.raises(Unprocessable):
        check_bookable(date(2026, 3, 8), "03:00", NEW_YORK, night, now=EARLY)


def test_claim_cells_cover_every_five_minutes_of_absolute_time():
    start = utc(2026, 3, 3, 3, 30)
    assert claim_ids("d", start, start + timedelta(minutes=15)) == [
        "d|2026-03-03T03:30Z", "d|2026-03-03T03:35Z", "d|2026-03-03T03:40Z"]
    # two appointments overlap exactly when they share a cell
    a = set(claim_ids("d", start, start + timedelta(minutes=60)))
    assert a & set(claim_ids("d", start + timedelta(minutes=30), start + timedelta(minutes=90)))
    assert not a & set(claim_ids("d", start + timedelta(minutes=60), start + timedelta(minutes=90)))
    # a Nepal (UTC+05:45) slot still starts on a cell boundary
    kathmandu = datetime(2026, 3, 3, 9, 0, tzinfo=ZoneInfo("Asia/Kathmandu"))
    assert claim_ids("p", kathmandu, kathmandu + timedelta(minutes=5)) == ["p|2026-03-03T03:15Z"]


@pytest.mark.parametrize("raw", ["0001-01-01", "9999-12-31", "2024-12-31", "2027-03-05"])
def test_days_far_from_today_are_refused_before_any_time_zone_arithmetic(raw):
    with pytest.raises(BadRequest) as err:
        parse_day(raw, NOW)
    assert err.value.code == "DATE_OUT_OF_RANGE"
    assert parse_day("2025-03-03", NOW) == date(2025, 3, 3) and parse_day("2027-03-02", NOW) == date(2027, 3, 2)


def test_fall_back_keeps_wall_clock_hours_and_moves_utc():
    before = compute_slots(date(2026, 10, 31), NEW_YORK, DEFAULT_AVAILABILITY, now=LATE)
    on = compute_slots(date(2026, 11, 1), NEW_YORK, DEFAULT_AVAILABILITY, now=LATE)
    assert labels(before) == labels(on)
    assert before[0].start == utc(2026, 10, 31, 13, 0) and on[0].start == utc(2026, 11, 1, 14, 0)


def test_fall_back_offers_each_repeated_wall_time_once_at_its_first_occurrence():
    night = Availability(weekly=weekly([(0, 3 * 60)]), horizon_days=60)
    slots = compute_slots(date(2026, 11, 1), NEW_YORK, night, now=LATE)
    assert labels(slots) == ["00:00", "00:30", "01:00", "01:30", "02:00", "02:30"]
    assert slots[2].start == utc(2026, 11, 1, 5, 0)   # 01:00 EDT, not 01:00 EST
    assert slots[4].start == utc(2026, 11, 1, 7, 0)   # 02:00 EST
    assert len({s.label for s in slots}) == len(slots)


# ---------------------------------------------------------------- parsing and booking checks


@pytest.mark.parametrize("raw", ["2030-02-31", "2026-02-29", "2026-00-10", "2026-3-3", "03-03-2026", "", "20260303"])
def test_impossible_and_malformed_days_are_bad_requests(raw):
    with pytest.raises(BadRequest):
        parse_day(raw)


def test_real_days_parse():
    assert parse_day("2028-02-29") == date(2028, 2, 29)


@pytest.mark.parametrize(("raw", "normal"), [("9:00", "09:00"), ("09:00", "09:00"), ("0:30", "00:30"),
                                             ("23:59", "23:59")])
def test_times_are_normalized(raw, normal):
    assert normalize_time(raw) == normal


@pytest.mark.parametrize("raw", ["24:00", "9:5", "9", "09:60", "nine", "-1:00"])
def test_bad_times_are_refused(raw):
    with pytest.raises(BadRequest):
        normalize_time(raw)


@pytest.mark.parametrize(("day", "label", "code"), [
    (TUESDAY, "09:15", "NOT_A_SLOT"),
    (TUESDAY, "17:00", "NOT_A_SLOT"),
    (date(2026, 3, 2), "09:00", "SLOT_IN_PAST"),
    (date(2026, 3, 2), "16:00", "TOO_SOON"),
    (date(2026, 4, 2), "09:00", "BEYOND_HORIZON"),
])
def test_check_bookable_says_why(day, label, code):
    with pytest.raises(Unprocessable) as err:
        check_bookable(day, label, KOLKATA, DEFAULT_AVAILABILITY, now=NOW)
    assert err.value.code == code


def test_check_bookable_returns_the_slot_and_honours_time_off():
    slot = check_bookable(TUESDAY, "09:30", KOLKATA, DEFAULT_AVAILABILITY, now=NOW)
    assert (slot.start, slot.label) == (utc(2026, 3, 3, 4, 0), "09:30")
    with pytest.raises(Unprocessable) as err:
        check_bookable(TUESDAY, "09:30", KOLKATA, DEFAULT_AVAILABILITY, now=NOW,
                       time_off=[Interval(utc(2026, 3, 3), utc(2026, 3, 4))])
    assert err.value.code == "DOCTOR_AWAY"


def test_stored_availability_round_trips_and_defaults():
    assert availability_from_doc(None) is DEFAULT_AVAILABILITY
    av = availability_from_doc({"weeklyHours": {"monday": [{"start": "08:00", "end": "24:00"}]}, "slotMinutes": 60,
                                "bufferMinutes": 0, "minNoticeMinutes": 0, "horizonDays": 5})
    assert av.weekly["monday"] == ((480, 1440),) and av.weekly["sunday"] == ()
    assert labels(candidate_slots(date(2026, 3, 2), KOLKATA, av))[-1] == "23:00"
    assert availability_from_doc({"slotMinutes": 15}).weekly == DEFAULT_AVAILABILITY.weekly


def test_busy_window_reaches_back_far_enough_for_long_appointments():
    start, end = busy_window(TUESDAY, KOLKATA, DEFAULT_AVAILABILITY)
    assert start <= utc(2026, 3, 3, 3, 30) - timedelta(hours=4) and end == utc(2026, 3, 3, 11, 30)
    assert busy_window(TUESDAY, KOLKATA, Availability(weekly={})) is None


def test_slot_keys_name_the_owner_and_the_utc_minute():
    start = datetime(2026, 3, 3, 9, 0, tzinfo=KOLKATA)
    assert slot_key("abc", start) == "abc|2026-03-03T03:30Z"


def test_reminder_offsets_skip_those_already_past():
    start = utc(2026, 3, 3, 3, 30)
    assert reminder_offsets(start, (1440, 15), NOW) == [15]
    assert reminder_offsets(start + timedelta(days=2), (15, 1440), NOW) == [1440, 15]
    assert reminder_offsets(utc(2026, 3, 2, 10, 10), (1440, 15), NOW) == []
