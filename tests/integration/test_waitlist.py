"""The waitlist (issue 24 §1): joining a doctor's waitlist for a day or range and a window,
listing one's entries, leaving, and the per-patient limit (WAITLIST_MAX_ENTRIES, race-safe)."""

from __future__ import annotations

from typing import Any

from tests.appointments_support import api, appt_env, body, concurrently, doctor, patient, twilio  # noqa: F401
from tests.http import call


def join(client: Any, who: dict[str, Any], doc: dict[str, Any], **fields: Any) -> Any:
    payload = {"doctor": str(doc["_id"]), "day": "2026-03-03", "from": "09:00", "to": "12:00", **fields}
    return call(client, "POST", "/appointment/waitlist", as_=who, json=payload)


def mine(client: Any, who: dict[str, Any]) -> list[dict[str, Any]]:
    response = call(client, "GET", "/appointment/waitlist/my", as_=who)
    assert response.status_code == 200
    return list(body(response)["waitlist"])


def test_a_patient_joins_sees_and_leaves_an_entry(api):  # noqa: F811
    # Given a patient and an approved doctor
    pat, doc = patient(), doctor()
    # When the patient joins the doctor's waitlist for three days, 9:00 to 12:00
    joined = join(api, pat, doc, untilDay="2026-03-05", **{"from": "9:00"})
    # Then the entry is waiting, and listed with its window and no offer
    assert joined.status_code == 201
    entry = body(joined)["entry"]
    assert mine(api, pat) == [{"_id": entry["_id"], "doctor": str(doc["_id"]), "day": "2026-03-03",
                               "untilDay": "2026-03-05", "from": "09:00", "to": "12:00", "status": "waiting",
                               "offer": None}]
    # When they leave it, it is gone
    assert call(api, "DELETE", f"/appointment/waitlist/{entry['_id']}", as_=pat).status_code == 200
    assert mine(api, pat) == []


def test_bad_entries_are_refused_with_a_clear_4xx(api):  # noqa: F811
    pat, doc = patient(), doctor()
    unapproved = doctor(approvalStatus="pending")
    cases = [
        (join(api, pat, doc, untilDay="2026-03-20"), 422),  # 18 days
        (join(api, pat, doc, **{"from": "12:00", "to": "09:00"}), 400),
        (join(api, pat, doc, day="2026-02-31"), 400),
        (join(api, pat, doc, untilDay="2026-03-01"), 422),
        (join(api, pat, unapproved), 404),
        (join(api, doc, doctor()), 403),  # only patients
        (join(api, pat, doc, extra="x"), 400),
    ]
    assert [(r.status_code, body(r)["success"]) for r, _ in cases] == [(s, False) for _, s in cases]
    assert mine(api, pat) == []


def test_twenty_concurrent_joins_against_three_give_exactly_three_entries(api, db):  # noqa: F811
    # Given a patient and twenty doctors
    pat = patient()
    doctors = [doctor() for _ in range(20)]
    # When the patient joins all twenty waitlists at once
    responses = concurrently(*[lambda d=d: join(api, pat, d) for d in doctors])
    # Then exactly three are joined and the others are refused with the limit's code
    assert sorted(r.status_code for r in responses) == [201] * 3 + [409] * 17
    assert {body(r)["code"] for r in responses if r.status_code == 409} == {"WAITLIST_FULL"}
    assert len(mine(api, pat)) == 3 and db.waitlist.count_documents({"patient": pat["_id"]}) == 3
    # And leaving one frees its place for another join
    first = mine(api, pat)[0]["_id"]
    assert call(api, "DELETE", f"/appointment/waitlist/{first}", as_=pat).status_code == 200
    assert join(api, pat, doctors[0]).status_code == 201
    assert join(api, pat, doctors[1]).status_code == 409


def test_other_users_neither_see_nor_remove_someones_entry(api):  # noqa: F811
    # Given a patient's entry
    pat, other, doc = patient(), patient(), doctor()
    entry = body(join(api, pat, doc))["entry"]
    # Then another patient does not see it and cannot remove it (404, as if it did not exist)
    assert mine(api, other) == []
    refused = call(api, "DELETE", f"/appointment/waitlist/{entry['_id']}", as_=other)
    assert refused.status_code == 404
    # And the doctor cannot act on it either (patients' routes)
    assert call(api, "DELETE", f"/appointment/waitlist/{entry['_id']}", as_=doc).status_code == 403
    assert [e["_id"] for e in mine(api, pat)] == [entry["_id"]]
    # And an anonymous caller is refused
    assert call(api, "GET", "/appointment/waitlist/my").status_code == 401
