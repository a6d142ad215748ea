"""Account deletion under database faults (issue 24 §3). For every command of a deletion, and for
both faults (refused before it applies, applied with its reply lost), nothing is left half-done:
the answer is never a 500; either the account is untouched (active, its booking and order as they
were) or it is closed and, once the sweeps have run, its booking and order are cancelled with the
order's stock back (the close-out is resumed by the privacy sweep, lost give-backs by the repair
sweeps). And for every command of an erase: a crash leaves the account resumable (never a
tombstone with personal data left), and the next sweep finishes the erase."""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta
from typing import Any

from bson import ObjectId, json_util

from functions.core import clock as core_clock
from functions.core import users
from functions.privacy import erase
from functions.registry import sweep
from tests.appointments_support import body, book, doctor
from tests.factories import PASSWORD, bearer, make_user
from tests.faults import Fault, FaultPlan, count_steps, inject
from tests.http import call
from tests.pharmacy_support import make_medicine, make_pharmacy, order_body, stock_of


def _scene(api: Any) -> dict[str, Any]:
    """A patient with a booking tomorrow and a pending order of 2 units."""
    patient = make_user("patient")
    booked = book(api, patient, doctor())
    assert booked.status_code == 201, booked.body[:200]
    pharmacy = make_pharmacy()
    medicine = make_medicine(pharmacy)
    placed = call(api, "POST", "/orders", as_=patient, json=order_body(pharmacy, [(medicine, 2)]))
    assert placed.status_code == 201, placed.body[:200]
    return {"patient": patient, "session": bearer(patient), "medicine": medicine,
            "appointment": ObjectId(body(booked)["appointment"]["_id"]),
            "order": ObjectId(body(placed)["order"]["_id"])}


def _delete(api: Any, scene: dict[str, Any]) -> Any:
    return call(api, "POST", "/me/delete", json={"password": PASSWORD}, headers=scene["session"])


def test_a_deletion_that_fails_at_any_command_is_whole_or_leaves_the_account_untouched(api, db, clock):
    start, fired = clock(), 0
    first = _scene(api)
    steps = count_steps(lambda: _delete(api, first))
    assert "users.update_one" in steps and "audit_log.insert_one" in steps, steps
    for k in range(1, len(steps) + 1):
        for fault in Fault:
            # Given a patient with a booking and an order
            clock.set(start)
            scene = _scene(api)
            stock = stock_of(db, scene["medicine"])  # after the order took its 2 units
            # When the k-th command of their deletion fails
            with inject(FaultPlan(fail_at=k, fault=fault)) as plan:
                response = _delete(api, scene)
            where = (k, fault, steps[k - 1], response.status_code)
            if not plan.fired:  # this run sent fewer commands (the inline outbox worker's leases vary)
                continue
            fired += 1
            # Then the answer is the truth or "try again", never a 500
            assert response.status_code in (202, 503), (where, response.body[:300])
            user = db.users.find_one({"_id": scene["patient"]["_id"]})
            closed = user.get("status") == users.DELETION_REQUESTED
            assert closed == (response.status_code == 202), where
            # And once the sweeps have run (the close-out resumed, lost give-backs repaired)
            clock.advance(minutes=10)
            sweep()
            appt = db.appointments.find_one({"_id": scene["appointment"]})
            order = db.orders.find_one({"_id": scene["order"]})
            audited = db.audit_log.count_documents({"subjectId": scene["patient"]["_id"],
                                                    "action": "account.deletion-requested"})
            if closed:  # whole: closed, everything cancelled, the stock back, audited once
                assert user["active"] is False and "closingOut" not in db.users.find_one({"_id": user["_id"]}), where
                assert appt["status"] == "cancelled" and order["orderStatus"] == "cancelled", where
                assert stock_of(db, scene["medicine"]) == stock + 2, where
                assert audited == 1, where
            else:  # untouched: the account works, its booking and order stand
                assert user.get("active", True) is True and "eraseAfter" not in user, where
                assert appt["status"] != "cancelled" and order["orderStatus"] == "pending", where
                assert audited <= 1, where  # an entry whose write applied records the attempt
                assert call(api, "GET", "/me", as_=db.users.find_one({"_id": user["_id"]})).status_code == 200
    assert fired >= 2 * (len(steps) - 5), (fired, len(steps))  # every command of the close and the close-out


def _closed_with_records(db: Any, now: datetime) -> dict[str, Any]:
    """A closed account past its grace period, with records of its own in several collections, as
    their domains write them."""
    patient = make_user("patient")  # a name and contact of its own (make_user numbers them)
    uid = patient["_id"]
    db.appointments.insert_one({"patient": uid, "doctor": ObjectId(), "status": "cancelled", "start": now,
                                "end": now + timedelta(minutes=30), "reason": f"private reason {uid}"})
    db.waitlist.insert_one({"patient": uid, "doctor": ObjectId(), "status": "ended", "seat": f"released|{uid}"})
    db.messages.insert_one({"roomId": "r", "senderId": uid, "text": f"private text {uid}"})
    db.connections.insert_one({"_id": f"cid-{uid}", "userId": uid, "expiresAt": now + timedelta(hours=1)})
    db.orders.insert_one({"customer": uid, "pharmacy": ObjectId(), "orderNumber": f"ORD-{uid}",
                          "orderStatus": "cancelled", "shippingAddress": {"fullName": patient["name"]}})
    db.audit_log.insert_one({"actorId": uid, "actorName": patient["name"], "action": "read", "subjectId": uid})
    assert users.close_for_deletion(uid, now - timedelta(days=31), now - timedelta(seconds=1))
    return patient


def _personal_left(db: Any, patient: dict[str, Any]) -> list[str]:
    """Where the patient's name, contact or texts remain (every collection scanned)."""
    uid = patient["_id"]
    needles = (f'"{patient["name"]}"', patient["contact"], f"private reason {uid}", f"private text {uid}")
    return [f"{name}: {doc}" for name in db.list_collection_names() for doc in db[name].find({})
            if any(n in json_util.dumps(doc) for n in needles)]


def test_an_erase_that_fails_at_any_command_is_resumed_by_the_next_sweep(api, db, clock):
    now = core_clock.now()
    patient = _closed_with_records(db, now)
    steps = count_steps(lambda: erase.sweep(now))
    assert steps.count("users.update_one") == 2 and not _personal_left(db, patient), steps  # begun, tombstone
    for k in range(1, len(steps) + 1):
        for fault in Fault:
            # Given a closed account whose grace period is over
            patient = _closed_with_records(db, now)
            # When the k-th command of its erase fails
            with inject(FaultPlan(fail_at=k, fault=fault)), contextlib.suppress(Exception):
                erase.sweep(now)
            where = (k, fault, steps[k - 1])
            # Then it is never a tombstone that keeps personal data, nor restorable once begun
            state = db.users.find_one({"_id": patient["_id"]})["status"]
            if state == users.ERASED:
                assert not _personal_left(db, patient), where
            admin = make_user("admin")
            restore = call(api, "POST", f"/admin/user/{patient['_id']}/restore", as_=admin)
            assert restore.status_code == (200 if state == users.DELETION_REQUESTED else 410), where
            if restore.status_code == 200:  # restored before the erase began: nothing of it was erased
                assert db.messages.count_documents({"senderId": patient["_id"]}) == 1, where
                continue
            # And the next sweep finishes it
            erase.sweep(now)
            assert db.users.find_one({"_id": patient["_id"]})["status"] == users.ERASED, where
            assert not _personal_left(db, patient), where
