"""GET /prescription/verify/:code (public, rate-limited) and PUT /prescription/:id/revoke."""

import pytest

from functions.core import config
from tests.factories import make_user
from tests.prescriptions_support import appointment, body, doctor, get, issue, patient, payload, post, put

VERIFY_KEYS = {"success", "valid", "status", "number", "issuedAt", "validUntil", "doctor", "medications",
               "patientInitials"}


def test_an_active_prescription_verifies_with_only_what_a_pharmacist_needs(api):
    # Given an active prescription for Zofia Łukasiewicz
    author = doctor(name="Anita Desai", speciality="Pulmonology")
    rx = issue(api, author, patient(name="Zofia Łukasiewicz"))
    # When anyone (no login) checks its code
    response = get(api, None, f"/prescription/verify/{rx['verificationCode']}")
    # Then it is valid, with the number, dates, doctor, medicines and the patient's initials only
    assert response.status_code == 200
    data = body(response)
    assert set(data) == VERIFY_KEYS
    assert data["valid"] is True and data["status"] == "active"
    assert data["number"] == rx["prescriptionNumber"]
    assert data["doctor"] == {"name": "Anita Desai", "speciality": "Pulmonology"}
    assert data["patientInitials"] == "Z. Ł."
    assert [m["name"] for m in data["medications"]] == [m["name"] for m in rx["medications"]]
    for private in ("diagnosis", "symptoms", "notes", "instructions", "Łukasiewicz", "Acute bronchitis"):
        assert private not in response.body.decode()


def test_the_code_may_be_typed_in_lower_case_without_dashes(api):
    # Given an active prescription
    rx = issue(api, doctor(), patient())
    typed = rx["verificationCode"].replace("-", "").lower()
    # When its code is typed loosely
    response = get(api, None, f"/prescription/verify/{typed}")
    # Then it still verifies
    assert body(response)["valid"] is True


def test_an_expired_prescription_is_not_valid(api, clock):
    # Given a prescription issued 31 days ago (validity 30 days)
    rx = issue(api, doctor(), patient())
    clock.advance(days=31)
    # When its code is checked
    data = body(get(api, None, f"/prescription/verify/{rx['verificationCode']}"))
    # Then it is reported expired
    assert data["valid"] is False and data["status"] == "expired"


def test_a_revoked_prescription_is_not_valid(api):
    # Given a prescription its author revoked
    author = doctor()
    rx = issue(api, author, patient())
    revoked = put(api, author, f"/prescription/{rx['_id']}/revoke", {"reason": "Dose was wrong"})
    assert revoked.status_code == 200 and body(revoked)["prescription"]["status"] == "revoked"
    # When its code is checked
    data = body(get(api, None, f"/prescription/verify/{rx['verificationCode']}"))
    # Then it is reported revoked
    assert data["valid"] is False and data["status"] == "revoked"


@pytest.mark.parametrize("code", ["AAAA-BBBB-CCCC", "short", "0OIL-0OIL-0OIL", "pdf"])
def test_unknown_or_malformed_codes_are_404_and_not_valid(api, code):
    # Given no prescription with that code
    # When it is checked
    response = get(api, None, f"/prescription/verify/{code}")
    # Then 404, valid false
    assert response.status_code == 404
    assert body(response)["valid"] is False


def test_the_verify_path_is_not_taken_for_a_prescription_id(api):
    # Given a patient with a prescription, logged in
    owner = patient()
    rx = issue(api, doctor(), owner)
    # When they call /prescription/verify/<code> with their session
    response = get(api, owner, f"/prescription/verify/{rx['verificationCode']}")
    # Then the verify route answers (not the prescription-by-id route)
    assert response.status_code == 200 and "valid" in body(response)


def test_verification_is_rate_limited_per_client(api, monkeypatch, clock):
    # Given a limit of 3 checks a minute
    monkeypatch.setenv("VERIFY_PER_MINUTE", "3")
    config.reset_settings()
    rx = issue(api, doctor(), patient())
    path = f"/prescription/verify/{rx['verificationCode']}"
    # When one client checks four times within the minute
    statuses = [get(api, None, path).status_code for _ in range(4)]
    # Then the fourth is refused with a Retry-After
    assert statuses == [200, 200, 200, 429]
    refused = get(api, None, path)
    assert refused.headers["Retry-After"].isdigit() and body(refused)["code"] == "RATE_LIMITED"
    # And the next minute it answers again
    clock.advance(minutes=1)
    assert get(api, None, path).status_code == 200


def test_the_sweeper_purges_expired_rate_limit_windows(api, db, clock):
    # Given a verification check (its one-minute window is kept with every limit's, core.throttle)
    from functions import registry

    rx = issue(api, doctor(), patient())
    get(api, None, f"/prescription/verify/{rx['verificationCode']}")
    checks = {"_id": {"$regex": "^rx-verify[|]"}}
    assert db["rate_limits"].count_documents(checks) == 1
    # When the platform sweeper runs once the hour the window ended in is past
    clock.advance(hours=2)
    counts = registry.sweep()
    # Then the window is gone (the day's message windows of the people notified stay)
    assert counts["rateLimitsPurged"] == 1
    assert db["rate_limits"].count_documents(checks) == 0


# ---------------------------------------------------------------- revoke


def test_only_the_author_revokes(api):
    # Given a prescription by doctor A
    author, owner = doctor(), patient()
    rx = issue(api, author, owner)
    path = f"/prescription/{rx['_id']}/revoke"
    # When another doctor, the patient or an admin try to revoke it
    # Then 404 for the other doctor, 403 for the other roles, and it stays active
    assert put(api, doctor(), path, {"reason": "not mine"}).status_code == 404
    assert put(api, owner, path, {"reason": "do not want"}).status_code == 403
    assert put(api, make_user("admin"), path, {"reason": "admin"}).status_code == 403
    assert body(get(api, owner, f"/prescription/{rx['_id']}"))["prescription"]["status"] == "active"


def test_revoking_twice_is_422_and_the_reason_is_required(api):
    # Given a prescription by doctor A
    author = doctor()
    rx = issue(api, author, patient())
    path = f"/prescription/{rx['_id']}/revoke"
    # When A revokes without a reason, then with one, then again
    assert put(api, author, path, {}).status_code == 400
    assert put(api, author, path, {"reason": "Wrong patient"}).status_code == 200
    again = put(api, author, path, {"reason": "Wrong patient"})
    # Then the second revocation is refused
    assert again.status_code == 422 and body(again)["code"] == "PRESCRIPTION_NOT_ACTIVE"


def test_a_new_prescription_for_the_same_appointment_can_replace_a_revoked_one(api):
    # Given a revoked prescription for an appointment
    author, owner = doctor(), patient()
    appt = appointment(author, owner)
    first = body(post(api, author, "/prescription/new", payload(appt)))["prescription"]
    put(api, author, f"/prescription/{first['_id']}/revoke", {"reason": "Typo in the dose"})
    # When the doctor writes a corrected one
    second = post(api, author, "/prescription/new", payload(appt))
    # Then it gets its own number and code
    assert second.status_code == 201
    new = body(second)["prescription"]
    assert new["prescriptionNumber"] != first["prescriptionNumber"]
    assert new["verificationCode"] != first["verificationCode"]


# ---------------------------------------------------------------- the page the QR code opens (issue 17)

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"


def test_a_browser_gets_a_page_with_the_same_facts_and_nothing_more(api):
    # Given an active prescription by a doctor whose name carries the title and some markup
    author = doctor(name="Dr. Ananya <b>Iyer</b>", speciality="Pulmonology & Allergy")
    rx = issue(api, author, patient(name="Zofia Łukasiewicz"))
    # When a pharmacist's phone opens the QR code's link
    response = get(api, None, f"/prescription/verify/{rx['verificationCode']}", Accept=BROWSER)
    # Then a small page answers, without script, under a strict policy that lets nothing load
    assert response.status_code == 200 and response.headers["Content-Type"] == "text/html; charset=utf-8"
    html = response.body.decode()
    assert "<script" not in html.lower()
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "form-action 'none'" in policy and "frame-ancestors 'none'" in policy
    # With the facts of the JSON answer: valid, status, number, dates, doctor (title once), medicines, initials
    assert "Valid prescription" in html and "active" in html and rx["prescriptionNumber"] in html
    assert "2 Mar 2026" in html and "1 Apr 2026" in html
    assert "Dr. Ananya &lt;b&gt;Iyer&lt;/b&gt;" in html and "Dr. Dr." not in html and "<b>Iyer" not in html
    assert "Pulmonology &amp; Allergy" in html and "Z. Ł." in html
    for med in rx["medications"]:
        assert med["name"] in html
    # And nothing a pharmacist does not need
    for private in ("Łukasiewicz", "Acute bronchitis", "Drink plenty", "Finish the course"):
        assert private not in html


def test_a_revoked_prescriptions_page_says_it_must_not_be_dispensed(api):
    author = doctor()
    rx = issue(api, author, patient())
    put(api, author, f"/prescription/{rx['_id']}/revoke", {"reason": "Dose was wrong"})
    html = get(api, None, f"/prescription/verify/{rx['verificationCode']}", Accept=BROWSER).body.decode()
    assert "Not valid: revoked" in html and "must not be dispensed" in html and "Valid prescription" not in html


@pytest.mark.parametrize("accept", ["application/json", "application/json, text/plain, */*", "*/*", None])
def test_other_clients_get_json(api, accept):
    rx = issue(api, doctor(), patient())
    headers = {"Accept": accept} if accept else {}
    response = get(api, None, f"/prescription/verify/{rx['verificationCode']}", **headers)
    assert response.headers["Content-Type"] == "application/json" and set(body(response)) == VERIFY_KEYS


def test_errors_are_pages_for_a_browser_and_envelopes_for_others(api, monkeypatch):
    # An unknown code: a 404 page, or the 404 envelope with `valid: false`
    page = get(api, None, "/prescription/verify/AAAA-BBBB-CCCC", Accept=BROWSER)
    assert page.status_code == 404 and page.headers["Content-Type"].startswith("text/html")
    assert "No prescription has this verification code" in page.body.decode()
    envelope = get(api, None, "/prescription/verify/AAAA-BBBB-CCCC", Accept="application/json")
    assert envelope.status_code == 404 and body(envelope)["valid"] is False
    # Rate limited: a 429 page that keeps its Retry-After
    monkeypatch.setenv("VERIFY_PER_MINUTE", "0")
    config.reset_settings()
    limited = get(api, None, "/prescription/verify/AAAA-BBBB-CCCC", Accept=BROWSER)
    assert limited.status_code == 429 and limited.headers["Retry-After"].isdigit()
    assert limited.headers["Content-Type"].startswith("text/html")
