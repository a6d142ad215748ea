"""GET /appointment/my and GET /appointment/:id: who sees what (D-08)."""

from bson import ObjectId

from tests.appointments_support import (
    body,
    book,
    doctor,
    get,
    patient,
    put,
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
    booked(api, patient(), doc, day="2026-03-03", time="09:00")
    # When the patient lists them
    data = body(get(api, pat, "/appointment/my"))
    # Then they come by start time, without the symptoms (those are read one by one, audited)
    assert [a["_id"] for a in data["appointments"]] == [first["_id"], middle["_id"], later["_id"]]
    assert data["count"] == 3 and data["pagination"] == {"total": 3, "page": 1, "pages": 1, "limit": 20}
    assert all("symptoms" not in a and "roomId" not in a for a in data["appointments"])
    # And the doctor sees their three, including the other patient's
    assert body(get(api, doc, "/appointment/my"))["count"] == 3


def test_my_appointments_filter_by_status_and_paginate(api):
    doc, pat = doctor(), patient()
    ids = [booked(api, pat, doc, time=t)["_id"] for t in ("09:00", "09:30", "10:00", "10:30", "11:00")]
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
