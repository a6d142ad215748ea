"""A user deleting their own account, `POST /me/delete` (issue 24 §3, first cut): the password
confirms it, the account is closed at once (no login, no session, its erase due after the grace
period, audited), and open obligations or a role that cannot delete itself are refused with the
reason."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from bson import ObjectId

from functions.core import clock
from functions.core.db import get_db
from tests.factories import PASSWORD, bearer, make_user


def _delete(client: Any, user: dict[str, Any], password: str = PASSWORD, headers: dict[str, str] | None = None
            ) -> Any:
    return client.http.post("/api/v1/me/delete", body=json.dumps({"password": password}),
                            headers={"Content-Type": "application/json", **(headers or bearer(user))})


def test_a_patient_deletes_their_account_and_can_no_longer_use_it(client: Any) -> None:
    # Given a signed-in patient with nothing open
    patient = make_user("patient")
    session = bearer(patient)
    # When they delete their account with their password
    response = _delete(client, patient, headers=session)
    # Then the answer says when the data is erased (30 days by default)
    assert response.status_code == 200, response.body[:300]
    erase_after = json.loads(response.body)["eraseAfter"]
    assert erase_after.startswith((clock.now() + timedelta(days=30)).date().isoformat())
    # And the session they used no longer works, nor does a login
    assert client.http.get("/api/v1/me", headers=session).status_code == 401
    login = client.http.post("/api/v1/login", body=json.dumps({"contact": patient["contact"], "password": PASSWORD}),
                             headers={"Content-Type": "application/json"})
    assert login.status_code in (401, 403)
    # And the decision is in the account's audit trail
    assert get_db()["audit_log"].count_documents({"subjectId": patient["_id"],
                                                  "action": "account.deletion-requested"}) == 1


def test_a_wrong_password_changes_nothing(client: Any) -> None:
    # Given a patient; When they ask with a wrong password
    patient = make_user("patient")
    response = _delete(client, patient, password="not-my-password")
    # Then 422 names the field and the account still works
    assert response.status_code == 422
    assert json.loads(response.body)["code"] == "WRONG_PASSWORD"
    assert [e["field"] for e in json.loads(response.body)["errors"]] == ["password"]
    assert client.http.get("/api/v1/me", headers=bearer(patient)).status_code == 200


def test_a_missing_password_is_a_clear_400(client: Any) -> None:
    patient = make_user("patient")
    response = client.http.post("/api/v1/me/delete", body="{}",
                                headers={"Content-Type": "application/json", **bearer(patient)})
    assert response.status_code == 400  # a body that fails its schema is a 400 here
    assert [e["field"] for e in json.loads(response.body)["errors"]] == ["password"]


def test_an_upcoming_appointment_or_an_open_order_refuses_the_deletion_with_the_reason(client: Any) -> None:
    # Given a patient with an appointment tomorrow and a pending order, and their doctor
    doctor, patient = make_user("doctor"), make_user("patient")
    now = clock.now()
    get_db()["appointments"].insert_one({"_id": ObjectId(), "patient": patient["_id"], "doctor": doctor["_id"],
                                         "status": "confirmed", "start": now + timedelta(days=1),
                                         "end": now + timedelta(days=1, minutes=30), "day": "2026-03-03"})
    get_db()["orders"].insert_one({"customer": patient["_id"], "orderNumber": "ORD-1", "orderStatus": "pending",
                                   "createdAt": now})
    # When the patient, then the doctor, ask to delete their accounts
    by_patient, by_doctor = _delete(client, patient), _delete(client, doctor)
    # Then both are refused with the reason, and both accounts still work
    assert by_patient.status_code == 409
    assert json.loads(by_patient.body)["code"] == "ACCOUNT_HAS_OBLIGATIONS"
    assert [e["field"] for e in json.loads(by_patient.body)["errors"]] == ["appointments", "orders"]
    assert by_doctor.status_code == 409
    assert [e["field"] for e in json.loads(by_doctor.body)["errors"]] == ["appointments"]
    assert client.http.get("/api/v1/me", headers=bearer(patient)).status_code == 200


def test_past_and_cancelled_records_do_not_stand_in_the_way(client: Any) -> None:
    # Given a patient with a past appointment, a cancelled one tomorrow and a delivered order
    doctor, patient = make_user("doctor"), make_user("patient")
    now = clock.now()
    get_db()["appointments"].insert_many([
        {"patient": patient["_id"], "doctor": doctor["_id"], "status": "confirmed",
         "start": now - timedelta(days=1), "end": now - timedelta(days=1) + timedelta(minutes=30)},
        {"patient": patient["_id"], "doctor": doctor["_id"], "status": "cancelled",
         "start": now + timedelta(days=1), "end": now + timedelta(days=1, minutes=30)}])
    get_db()["orders"].insert_one({"customer": patient["_id"], "orderStatus": "delivered", "createdAt": now})
    # When they delete their account; Then it is closed
    assert _delete(client, patient).status_code == 200


def test_pharmacists_and_admins_are_refused(client: Any) -> None:
    for role in ("pharmacist", "admin"):
        response = _delete(client, make_user(role))
        assert response.status_code == 403
        assert json.loads(response.body)["code"] == "DELETION_NOT_AVAILABLE"


def test_a_deletion_needs_a_session(client: Any) -> None:
    response = client.http.post("/api/v1/me/delete", body=json.dumps({"password": PASSWORD}),
                                headers={"Content-Type": "application/json"})
    assert response.status_code == 401
