"""A user deleting their own account, `POST /me/delete` (issue 24 §3): the password confirms it,
the account is closed at once (no session, no login, its future appointments and open orders
cancelled, doctors and pharmacies told), an admin can restore it during the grace period, and
after it the erase leaves nothing personal outside the records the platform must keep (a scan of
every collection), and the contact is free for a new sign-up. Doctors, pharmacists and the last
admin with obligations are refused with the reason."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from bson import ObjectId, json_util

from functions.core import clock as core_clock
from functions.core import throttle
from functions.core.db import get_db
from functions.registry import sweep
from tests.appointments_support import book, concurrently, doctor
from tests.auth_support import login, register
from tests.factories import PASSWORD, bearer, make_user
from tests.http import body, call
from tests.pharmacy_support import make_medicine, make_pharmacy, order_body, stock_of

# Records the law makes the platform keep, which may go on naming the user by id (README, retention table).
KEPT_BY_ID = {"prescriptions", "audit_log", "payments", "orders", "users"}


def _delete(client: Any, user: dict[str, Any], password: str = PASSWORD, headers: dict[str, str] | None = None
            ) -> Any:
    return call(client, "POST", "/me/delete", json={"password": password}, headers=headers or bearer(user))


def _signed_up(client: Any, name: str, contact: str) -> dict[str, Any]:
    """A patient as sign-up makes them."""
    assert register(client, name=name, contact=contact).status_code == 201
    return get_db()["users"].find_one({"contact": contact})


def _records_of(client: Any, patient: dict[str, Any], doc: dict[str, Any]) -> dict[str, Any]:
    """A booking and an order through the API; history, a prescription, a payment, a chat
    message, an audit entry as their domains write them."""
    db, now = get_db(), core_clock.now()
    booked = book(client, patient, doc)
    assert booked.status_code == 201, booked.body[:300]
    appointment = body(booked)["appointment"]
    pharmacy = make_pharmacy()
    medicine = make_medicine(pharmacy)
    placed = call(client, "POST", "/orders", as_=patient, json=order_body(pharmacy, [(medicine, 2)]))
    assert placed.status_code == 201, placed.body[:300]
    db["users"].update_one({"_id": patient["_id"]}, {"$set": {"medicalHistory": [
        {"_id": ObjectId(), "analysis": "history of migraines", "url": "https://res.cloudinary.com/cc/x.png",
         "type": "image", "createdAt": now}]}})
    appt_id = ObjectId(appointment["_id"])
    db["prescriptions"].insert_one({"patient": patient["_id"], "doctor": doc["_id"], "appointment": appt_id,
                                    "diagnosis": "migraine", "status": "active", "createdAt": now})
    db["payments"].insert_one({"_id": f"appointment:{appt_id}", "payerId": patient["_id"], "kind": "appointment",
                               "targetId": appt_id, "status": "succeeded", "amount": 50000, "updatedAt": now})
    db["messages"].insert_one({"_id": ObjectId(), "roomId": appointment.get("roomId") or "room-x",
                               "senderId": patient["_id"], "text": "see you tomorrow", "sentAt": now})
    db["audit_log"].insert_one({"actorId": patient["_id"], "actorName": patient["name"], "actorRole": "patient",
                                "action": "read", "resourceType": "prescription", "resourceId": ObjectId(),
                                "subjectId": patient["_id"], "reason": None, "at": now})
    return {"appointment": appt_id, "order": ObjectId(body(placed)["order"]["_id"]), "medicine": medicine}


def _through_the_grace_period(clock: Any) -> None:
    """The sweeper's runs over the grace period and past it. Rate-limit windows (a day at most) end
    on the first day and go by its runs then (MongoDB's TTL; the embedded server's purge of the
    last hours): run that part hourly through the first day, then the whole sweep."""
    for _ in range(26):
        clock.advance(hours=1)
        throttle.sweep(core_clock.now())
    sweep()
    clock.advance(days=30)
    sweep()


def _leftovers(needles: dict[str, str], allowed_id_in: set[str]) -> list[str]:
    """Every collection of the database (none named by hand) scanned for each needle."""
    db, found = get_db(), []
    for name in sorted(db.list_collection_names()):
        for doc in db[name].find({}):
            text = json_util.dumps(doc)
            for what, needle in needles.items():
                if needle in text and not (what == "id" and name in allowed_id_in):
                    found.append(f"{name}: {what} in {text[:200]}")
    return found


def test_a_patient_deletes_their_account_which_is_closed_at_once_then_erased(api: Any, clock: Any) -> None:
    # Given a patient as sign-up makes them, with a booking, an order and a record of every kind
    doc = doctor()
    patient = _signed_up(api, "Erin Erasable", "erin.erasable@example.com")
    session = bearer(patient)
    mine = _records_of(api, patient, doc)
    stock_before = stock_of(get_db(), mine["medicine"])
    # When they delete their account with their password
    response = _delete(api, patient, headers=session)
    # Then the answer says when the data is erased (30 days by default)
    assert response.status_code == 202, response.body[:300]
    answer = body(response)
    assert answer["eraseAfter"].startswith((core_clock.now() + timedelta(days=30)).date().isoformat())
    assert "erased" in answer["message"]
    # And their session no longer works, nor does a login
    assert call(api, "GET", "/me", headers=session).status_code == 401
    assert login(api, patient["contact"]).status_code == 401
    # And the appointment is cancelled for the doctor, who is told
    db = get_db()
    assert db["appointments"].find_one({"_id": mine["appointment"]})["status"] == "cancelled"
    assert any(n.get("to") == doc["contact"] and n.get("kind") == "cancelled" for n in db["notifications"].find({}))
    # And the order is cancelled with its stock back
    assert db["orders"].find_one({"_id": mine["order"]})["orderStatus"] == "cancelled"
    assert stock_of(db, mine["medicine"]) == stock_before + 2
    # And the decision is in the account's audit trail
    assert db["audit_log"].count_documents({"subjectId": patient["_id"], "action": "account.deletion-requested"}) == 1

    # When the sweeper runs through the grace period and past it
    _through_the_grace_period(clock)
    # Then no collection holds their name, contact or shipping details, and only the kept records their id
    needles = {"id": str(patient["_id"]), "name": "Erin Erasable", "contact": patient["contact"],
               "shipping name": "Asha Rao", "shipping phone": "+919800000001", "history": "migraines"}
    left = _leftovers(needles, KEPT_BY_ID)
    assert not left, "\n".join(left)
    # And the account is a tombstone, the prescription and the payment kept
    tombstone = db["users"].find_one({"_id": patient["_id"]})
    assert tombstone["status"] == "erased" and "name" not in tombstone and "passwordHash" not in tombstone
    assert db["prescriptions"].count_documents({"patient": patient["_id"]}) == 1
    assert db["payments"].count_documents({"payerId": patient["_id"]}) == 1
    # And the contact is free: a new sign-up with it succeeds
    assert register(api, name="Erin Again", contact="erin.erasable@example.com").status_code == 201


def test_a_wrong_password_changes_nothing(api: Any) -> None:
    # Given a patient; When they ask with a wrong password
    patient = make_user("patient")
    response = _delete(api, patient, password="not-my-password")
    # Then 422 names the field and the account still works
    assert response.status_code == 422
    assert body(response)["code"] == "WRONG_PASSWORD"
    assert [e["field"] for e in body(response)["errors"]] == ["password"]
    assert call(api, "GET", "/me", as_=patient).status_code == 200


def test_a_missing_password_is_a_clear_4xx_naming_the_field(api: Any) -> None:
    response = call(api, "POST", "/me/delete", as_=make_user("patient"), json={})
    assert response.status_code in (400, 422)
    assert [e["field"] for e in body(response)["errors"]] == ["password"]


def test_a_deletion_needs_a_session(api: Any) -> None:
    assert call(api, "POST", "/me/delete", json={"password": PASSWORD}).status_code == 401


def test_a_doctor_with_a_booked_appointment_is_refused_with_the_reason(api: Any) -> None:
    # Given a doctor with a booking tomorrow
    doc, patient = doctor(), make_user("patient")
    assert book(api, patient, doc).status_code == 201
    # When the doctor asks to delete their account
    response = _delete(api, doc)
    # Then 409 names the obligation, and the account still works
    assert response.status_code == 409
    assert body(response)["code"] == "ACCOUNT_HAS_OBLIGATIONS"
    assert [e["field"] for e in body(response)["errors"]] == ["appointments"]
    assert "appointments" in body(response)["message"]
    assert call(api, "GET", "/me", as_=doc).status_code == 200


def test_a_pharmacist_whose_pharmacy_has_an_open_order_is_refused_with_the_reason(api: Any) -> None:
    # Given a pharmacy with a pending order
    pharmacy = make_pharmacy()
    medicine = make_medicine(pharmacy)
    placed = call(api, "POST", "/orders", as_=make_user("patient"), json=order_body(pharmacy, [(medicine, 1)]))
    assert placed.status_code == 201
    # When its pharmacist asks to delete their account
    response = _delete(api, pharmacy["ownerUser"])
    # Then 409 names the orders
    assert response.status_code == 409
    assert [e["field"] for e in body(response)["errors"]] == ["orders"]


def test_the_last_active_admin_is_refused_and_another_admin_may_leave(api: Any) -> None:
    # Given one admin; When they ask to delete their account; Then 409 LAST_ADMIN
    first = make_user("admin")
    response = _delete(api, first)
    assert response.status_code == 409 and body(response)["code"] == "LAST_ADMIN"
    # Given a second admin; When the first asks again; Then the account is closed
    make_user("admin")
    assert _delete(api, first).status_code == 202


def test_an_admin_restores_an_account_during_the_grace_period_but_not_after_the_erase(api: Any, clock: Any) -> None:
    # Given a patient who deleted their account, and an admin
    patient, admin = make_user("patient"), make_user("admin")
    assert _delete(api, patient).status_code == 202
    # When the admin restores it within the grace period
    response = call(api, "POST", f"/admin/user/{patient['_id']}/restore", as_=admin)
    # Then the account is active again (the user logs in again), and the decision is audited
    assert response.status_code == 200, response.body[:300]
    assert body(response)["user"]["active"] is True
    assert login(api, patient["contact"]).status_code == 200
    assert get_db()["audit_log"].count_documents({"subjectId": patient["_id"], "action": "account.restored"}) == 1
    # And the erase no longer comes
    clock.advance(days=31)
    sweep()
    assert get_db()["users"].find_one({"_id": patient["_id"]})["name"] == patient["name"]
    # And a restore of an account nobody asked to delete is 409
    again = call(api, "POST", f"/admin/user/{patient['_id']}/restore", as_=admin)
    assert again.status_code == 409 and body(again)["code"] == "NOT_DELETING"


def test_a_restore_after_the_erase_is_410(api: Any, clock: Any) -> None:
    patient, admin = make_user("patient"), make_user("admin")
    assert _delete(api, patient).status_code == 202
    clock.advance(days=31)
    sweep()
    response = call(api, "POST", f"/admin/user/{patient['_id']}/restore", as_=admin)
    assert response.status_code == 410 and body(response)["code"] == "ACCOUNT_ERASED"


def test_only_admins_restore(api: Any) -> None:
    patient = make_user("patient")
    assert _delete(api, patient).status_code == 202
    for role in ("patient", "doctor", "pharmacist"):
        response = call(api, "POST", f"/admin/user/{patient['_id']}/restore", as_=make_user(role))
        assert response.status_code == 403


def test_two_deletions_sent_at_once_close_the_account_once(api: Any) -> None:
    # Given a patient with one session
    patient = make_user("patient")
    session = bearer(patient)
    # When two deletions are sent at the same moment
    answers = concurrently(*[lambda: _delete(api, patient, headers=session)] * 2)
    # Then one closes it, the other is refused (the deletion under way, or the session it ended)
    assert sorted(a.status_code for a in answers) in ([202, 401], [202, 409])
    assert get_db()["audit_log"].count_documents({"subjectId": patient["_id"],
                                                  "action": "account.deletion-requested"}) == 1
    assert json.loads(next(a for a in answers if a.status_code != 202).body)["success"] is False


def test_a_doctor_without_bookings_leaves_and_their_patients_records_keep_only_their_id(api: Any, clock: Any) -> None:
    # Given a doctor whose only appointment is over (a snapshot of their name and contact in it)
    doc = doctor(name="Dora Departing")
    past = {"_id": ObjectId(), "patient": make_user("patient")["_id"], "doctor": doc["_id"], "status": "completed",
            "start": core_clock.now() - timedelta(days=2), "end": core_clock.now() - timedelta(days=2, minutes=-30),
            "parties": {"doctor": {"name": doc["name"], "contact": doc["contact"]}}}
    get_db()["appointments"].insert_one(past)
    get_db()["on_call"].insert_one({"_id": doc["_id"], "onCall": True, "phone": "+919811122233"})
    # When they delete their account, and the erase comes
    assert _delete(api, doc).status_code == 202
    _through_the_grace_period(clock)
    # Then their patient's appointment stays, naming them by id only; their name and contact are nowhere
    kept = get_db()["appointments"].find_one({"_id": past["_id"]})
    assert kept["doctor"] == doc["_id"] and "doctor" not in (kept.get("parties") or {})
    left = _leftovers({"name": "Dora Departing", "contact": doc["contact"], "on-call phone": "+919811122233"}, set())
    assert not left, "\n".join(left)


def test_a_doctor_who_leaves_ends_the_waitlist_entries_waiting_for_them(api: Any) -> None:
    from tests.integration.test_waitlist import join, mine

    # Given a patient waiting for a doctor who has no booking
    doc, waiting = doctor(), make_user("patient")
    entry = body(join(api, waiting, doc))["entry"]
    # When the doctor deletes their account
    assert _delete(api, doc).status_code == 202
    # Then the patient's entry is ended (nobody will offer them that doctor's slots), not left waiting
    assert {e["_id"]: e["status"] for e in mine(api, waiting)} == {entry["_id"]: "ended"}


def test_a_pharmacist_who_leaves_closes_their_shop_and_its_medicines_leave_the_catalogue(api: Any) -> None:
    # Given a listed pharmacy with no open order, its medicine in the catalogue
    pharmacy = make_pharmacy()
    medicine = make_medicine(pharmacy, name="Leavamol 500")
    shown = call(api, "GET", "/medicines?search=Leavamol", as_=make_user("patient"))
    assert [m["_id"] for m in body(shown)["medicines"]] == [str(medicine["_id"])]
    # When its pharmacist deletes their account
    assert _delete(api, pharmacy["ownerUser"]).status_code == 202
    # Then the medicine is no longer listed, and an order for it is refused
    shown = call(api, "GET", "/medicines?search=Leavamol", as_=make_user("patient"))
    assert body(shown)["medicines"] == []
    placed = call(api, "POST", "/orders", as_=make_user("patient"), json=order_body(pharmacy, [(medicine, 1)]))
    assert placed.status_code in (404, 409, 422), placed.body[:300]
    assert get_db()["pharmacies"].find_one({"_id": pharmacy["_id"]})["status"] == "inactive"


def test_the_erase_removes_the_emergency_lines_call_back_requests_from_the_accounts_number(api: Any, clock: Any
                                                                                           ) -> None:
    # Given a patient whose contact is a phone, who asked the emergency line for a call back,
    # and a call back asked from another number
    patient = _signed_up(api, "Ravi Ringing", "+919822233344")
    get_db()["ivr_callbacks"].insert_many([
        {"_id": "+919822233344|x", "caller": "+919822233344", "status": "open", "createdAt": core_clock.now()},
        {"_id": "+919800011122|x", "caller": "+919800011122", "status": "open", "createdAt": core_clock.now()}])
    # When they delete their account and the erase comes
    assert _delete(api, patient).status_code == 202
    _through_the_grace_period(clock)
    # Then no collection holds their number; the other caller's request stays
    left = _leftovers({"contact": "+919822233344", "name": "Ravi Ringing"}, set())
    assert not left, "\n".join(left)
    assert get_db()["ivr_callbacks"].count_documents({"caller": "+919800011122"}) == 1
