"""GET /appointment/my and GET /appointment/:id: who sees what (D-08)."""

from bson import ObjectId

from tests.appointments_support import (
    body,
    book,
    doctor,
    get,
    patient,
    put,
    utc,
)
from tests.factories import make_user


def booked(client, pat, doc, **kw):
    response = book(client, pat, doc, **kw)
    assert response.status_code == 201, response.body
    return body(response)["appointment"]


def test_participants_and_admins_read_one_appointment_and_nobody_else(api, db):
    # Given one appointment between a patient and a doctor
    doc, pat = doctor(), patient()
    appt = booked(api, pat, doc)
    path = f"/appointment/{appt['_id']}"
    # Then both participants and an admin see it in full
    for reader in (pat, doc, make_user("admin")):
        response = get(api, reader, path)
        assert response.status_code == 200, reader["role"]
        seen = body(response)["appointment"]
        assert seen["symptoms"] == "SECRET-SYMPTOM nausea" and seen["roomId"] == appt["roomId"]
    # And another patient and another doctor get a 404 that says nothing
    for stranger in (patient(), doctor()):
        response = get(api, stranger, path)
        assert response.status_code == 404
        assert "SECRET" not in response.body.decode() and appt["roomId"] not in response.body.decode()
    assert get(api, None, path).status_code == 401
    assert get(api, pat, "/appointment/not-an-id").status_code == 404
    assert get(api, pat, f"/appointment/{ObjectId()}").status_code == 404


def test_reads_by_the_doctor_are_audited_and_the_patients_own_are_not(api, db):
    doc, pat = doctor(), patient()
    appt = booked(api, pat, doc)
    get(api, pat, f"/appointment/{appt['_id']}")
    assert db.audit_log.count_documents({}) == 0
    get(api, doc, f"/appointment/{appt['_id']}")
    entry = db.audit_log.find_one()
    assert (entry["actorId"], entry["action"], entry["resourceType"]) == (doc["_id"], "read", "appointment")
    assert entry["resourceId"] == ObjectId(appt["_id"]) and entry["subjectId"] == pat["_id"]


def test_my_appointments_are_the_callers_own_sorted_by_start(api):
    # Given a patient with three appointments booked out of order, and someone else's
    doc, pat = doctor(), patient()
    later = booked(api, pat, doc, day="2026-03-05", time="10:00")
    first = booked(api, pat, doctor(), day="2026-03-03", time="15:00")
    middle = booked(api, pat, doc, day="2026-03-04", time="09:00")
    other = patient()
    booked(api, other, doc, day="2026-03-03", time="09:00")
    # When the patient lists them
    data = body(get(api, pat, "/appointment/my"))
    # Then they come soonest first, with what the frontend's cards show (symptoms, the room id
    # behind Join Call); without paging up to 100 come back
    assert [a["_id"] for a in data["appointments"]] == [first["_id"], middle["_id"], later["_id"]]
    assert data["count"] == 3 and data["pagination"] == {"total": 3, "page": 1, "pages": 1, "limit": 100}
    assert all(a["symptoms"] == "SECRET-SYMPTOM nausea" and a["roomId"] for a in data["appointments"])
    assert all("contact" not in a["patient"] and "contact" not in a["doctor"] for a in data["appointments"])
    # And the doctor sees their three, including the other patient's, with each patient's contact
    seen = body(get(api, doc, "/appointment/my"))
    assert seen["count"] == 3
    assert {a["patient"]["contact"] for a in seen["appointments"]} == {pat["contact"], other["contact"]}


def test_without_paging_upcoming_come_soonest_first_then_the_past_most_recent_first(api, clock):
    # Given a patient with appointments on four days (different doctors)
    pat = patient()
    appts = {day: booked(api, pat, doctor(), day=day, time="10:00")["_id"]
             for day in ("2026-03-03", "2026-03-04", "2026-03-05", "2026-03-06")}
    # When time moves past the first two and the patient lists without page or limit
    clock.set(utc(2026, 3, 4, 12, 0))
    listed = [a["_id"] for a in body(get(api, pat, "/appointment/my"))["appointments"]]
    # Then what is ahead comes first, soonest first, then the past, most recent first
    assert listed == [appts["2026-03-05"], appts["2026-03-06"], appts["2026-03-04"], appts["2026-03-03"]]
    # and asking for a page keeps the plain order by start
    paged = [a["_id"] for a in body(get(api, pat, "/appointment/my?page=1"))["appointments"]]
    assert paged == [appts[d] for d in sorted(appts)]


def test_my_appointments_filter_by_status_and_paginate(api):
    doctors, pat = [doctor(availability={"requiresConfirmation": True}) for _ in range(5)], patient()
    times = ("09:00", "09:30", "10:00", "10:30", "11:00")
    ids = [booked(api, pat, doc, time=t)["_id"] for doc, t in zip(doctors, times, strict=True)]
    doc = doctors[1]
    put(api, doc, f"/appointment/{ids[1]}/confirm")
    put(api, pat, f"/appointment/{ids[2]}/cancel", {"reason": "travel"})
    confirmed = body(get(api, pat, "/appointment/my?status=confirmed"))
    assert [a["_id"] for a in confirmed["appointments"]] == [ids[1]]
    active = body(get(api, pat, "/appointment/my?status=pending,confirmed"))
    assert active["pagination"]["total"] == 4
    page2 = body(get(api, pat, "/appointment/my?limit=2&page=2"))
    assert [a["_id"] for a in page2["appointments"]] == ids[2:4]
    assert page2["pagination"] == {"total": 5, "page": 2, "pages": 3, "limit": 2}
    page9 = body(get(api, pat, "/appointment/my?limit=2&page=9"))
    assert page9["appointments"] == [] and page9["pagination"]["total"] == 5
    assert get(api, pat, "/appointment/my?status=lost").status_code == 400
    assert get(api, pat, "/appointment/my?limit=500").status_code == 400
    assert get(api, make_user("admin"), "/appointment/my").status_code == 403


def test_the_doctors_list_shows_in_each_listed_patients_access_log(api, db):
    # Given a doctor with two appointments of one patient and one of another
    doc, asha, ravi = doctor(), patient(), patient()
    booked(api, asha, doc, day="2026-03-03", time="09:00")
    booked(api, asha, doc, day="2026-03-04", time="09:00")
    booked(api, ravi, doc, day="2026-03-03", time="10:00")
    # When the doctor lists their appointments (which show the symptoms)
    assert get(api, doc, "/appointment/my").status_code == 200
    # Then each patient's access log has one entry for it, naming how many of theirs were shown
    entries = {e["subjectId"]: e for e in db.audit_log.find({"action": "list"})}
    assert set(entries) == {asha["_id"], ravi["_id"]}
    assert (entries[asha["_id"]]["actorId"], entries[asha["_id"]]["resourceType"]) == (doc["_id"], "appointment")
    assert entries[asha["_id"]]["reason"] == "2 appointments with symptoms"
    assert entries[ravi["_id"]]["reason"] == "1 appointment with symptoms"
    seen = body(get(api, ravi, "/me/access-log"))["entries"]
    assert [(e["actor"]["role"], e["action"]) for e in seen] == [("doctor", "list")]
