"""Date-times of the appointments domain (issue 19 §2): every date a client sends is bounded
before any arithmetic (year 1 or 9999 is a 400 naming the problem, never an OverflowError), and a
time without an offset is in its owner's zone (the doctor's, for time off)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.appointments_support import body, book, doctor, get, patient, put
from tests.factories import json_headers

EDGES = ["0001-01-01", "9999-12-31", "0001-01-01T00:00:00", "9999-12-31T23:59:59", "9999-12-31T23:59:59-23:59",
         "0001-01-01T00:00:00+23:59"]


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_days_at_the_ends_of_the_calendar_are_a_clear_400_everywhere(api: Any, db: Any, day: str) -> None:
    doc, pat = doctor(), patient()
    booked = book(api, pat, doc)
    assert booked.status_code == 201
    appt_id = body(booked)["appointment"]["_id"]
    answers = {
        "slots": get(api, None, f"/appointment/slots/{doc['_id']}/{day}"),
        "book": book(api, pat, doc, day=day),
        "reschedule": put(api, pat, f"/appointment/{appt_id}/reschedule", {"day": day, "time": "09:00"}),
    }
    for what, response in answers.items():
        assert response.status_code == 400, (what, response.body)
        assert body(response)["code"] in ("DATE_OUT_OF_RANGE", "INVALID_DATE"), (what, response.body)
        assert body(response)["message"], what


@pytest.mark.parametrize("edge", EDGES)
def test_time_off_at_the_ends_of_the_calendar_is_a_clear_400(api: Any, db: Any, edge: str) -> None:
    doc = doctor()
    for start, end in ((edge, "2026-03-05T10:00:00"), ("2026-03-05T10:00:00", edge)):
        import json

        response = api.http.post("/api/v1/doctor/time-off", headers=json_headers(doc),
                                 body=json.dumps({"start": start, "end": end}).encode())
        assert response.status_code in (400, 422), (start, end, response.body)
        assert body(response)["message"], response.body


def test_a_time_off_without_an_offset_is_in_the_doctors_zone(api: Any, db: Any) -> None:
    import json

    # Given a doctor in Asia/Kolkata (UTC+05:30)
    doc = doctor()
    # When they take 2026-03-03 09:00-10:00 off, written without an offset
    response = api.http.post("/api/v1/doctor/time-off", headers=json_headers(doc),
                             body=json.dumps({"start": "2026-03-03T09:00:00", "end": "2026-03-03T10:00:00"}).encode())
    assert response.status_code in (200, 201), response.body
    # Then it is their local morning: 09:00 local can no longer be booked, 10:00 local still can
    assert book(api, patient(), doc, time="09:00").status_code in (409, 422)
    assert book(api, patient(), doc, time="10:00").status_code == 201
