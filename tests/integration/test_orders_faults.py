"""Placing and cancelling orders when the database fails at any step (issue 19 §1).

For every command k of the use case and both faults (refused before it applies; applied with its
reply lost): the customer never sees a 500; stock equals its initial value minus what live orders
hold, and the prescription's allowance likewise, right away when the compensation ran and after
one repair sweep (the clock past `REPAIR_AFTER_SECONDS`) when the request died between steps; and
a retry with the same Idempotency-Key returns the stored order when there is one.
"""


import pytest
from bson import ObjectId

from functions.core.compensation import Compensations
from functions.core.config import get_settings
from functions.pharmacy import sweep as pharmacy_sweep
from tests.factories import make_user
from tests.faults import Fault, FaultPlan, count_steps, inject
from tests.http import call
from tests.pharmacy_support import body, make_medicine, make_pharmacy, order_body
from tests.prescriptions_support import doctor, issue

STOCK = 500


@pytest.fixture
def setting(api, clock, db):
    shop = make_pharmacy()
    customer = make_user("patient")
    rx = issue(api, doctor(), customer)
    plain = [make_medicine(shop, name=f"Plain {i}", stock=STOCK) for i in range(2)]
    amox = make_medicine(shop, name="Amoxil", genericName="Amoxicillin", strength="500 mg", category="Antibiotics",
                         prescriptionRequired=True, stock=STOCK)
    allowance = sum(db.prescriptions.find_one({"_id": ObjectId(rx["_id"])})["remaining"].values())
    return {"shop": shop, "customer": customer, "rx": rx, "plain": plain, "amox": amox, "medicines": [*plain, amox],
            "allowance": allowance}


def one_item(s):
    return order_body(s["shop"], [(s["plain"][0], 2)])


def three_items(s):
    return order_body(s["shop"], [(s["plain"][0], 1), (s["plain"][1], 3), (s["amox"], 1)],
                      prescriptionId=s["rx"]["_id"])


def place(api, s, data, key):
    return call(api, "POST", "/orders", as_=s["customer"], json=data, headers={"Idempotency-Key": key})


def cancel(api, s, order_id):
    return call(api, "PUT", f"/order/{order_id}/cancel", as_=s["customer"], json={"reason": "changed my mind"})


def assert_nothing_lost(db, s):
    """Stock is initial minus what live orders hold; the allowance likewise."""
    live = list(db.orders.find({"orderStatus": {"$ne": "cancelled"}}))
    for medicine in s["medicines"]:
        held = sum(i["quantity"] for o in live for i in o["items"] if i["medicine"] == medicine["_id"])
        assert db.medicines.find_one({"_id": medicine["_id"]})["stock"] == STOCK - held, medicine["name"]
    held_rx = sum(i["quantity"] for o in live if o.get("prescription") for i in o["items"] if i["prescriptionRequired"])
    remaining = db.prescriptions.find_one({"_id": ObjectId(s["rx"]["_id"])})["remaining"]
    assert sum(remaining.values()) == s["allowance"] - held_rx


def repair_sweep(clock):
    clock.advance(seconds=get_settings().repair_after_seconds + 1)
    return pharmacy_sweep.sweep()


def cancel_every_live_order(api, db, s):
    for order in db.orders.find({"orderStatus": {"$ne": "cancelled"}}, {"_id": 1}):
        assert cancel(api, s, order["_id"]).status_code == 200


@pytest.mark.parametrize("order", [one_item, three_items], ids=["1 item", "3 items with a prescription item"])
def test_placing_loses_nothing_whichever_command_fails(api, db, clock, setting, order):
    s = setting
    data = order(s)
    steps = count_steps(lambda: place(api, s, data, "clean-run"))
    cancel_every_live_order(api, db, s)
    for k in range(1, len(steps) + 1):
        for fault in Fault:
            key = f"k{k}-{fault.value}"
            # When the k-th command of placing fails
            with inject(FaultPlan(fail_at=k, fault=fault)):
                first = place(api, s, data, key)
            # Then the customer is told (never a 500), and nothing is lost: the compensation ran
            assert first.status_code in (201, 503), (k, steps[k - 1], fault, first.body)
            assert_nothing_lost(db, s)
            # And a retry with the same key returns the stored order, or places it now
            retry = place(api, s, data, key)
            assert retry.status_code in (200, 201), (k, fault, retry.body)
            if first.status_code == 201:
                assert body(retry)["order"]["_id"] == body(first)["order"]["_id"]
            assert db.orders.count_documents({"orderStatus": {"$ne": "cancelled"}}) == 1
            assert_nothing_lost(db, s)
            cancel_every_live_order(api, db, s)
            assert_nothing_lost(db, s)


@pytest.mark.parametrize("order", [one_item, three_items], ids=["1 item", "3 items with a prescription item"])
def test_a_placing_that_dies_between_steps_is_repaired_by_the_sweep(api, db, clock, setting, order, monkeypatch):
    s = setting
    data = order(s)
    steps = count_steps(lambda: place(api, s, data, "clean-run"))
    cancel_every_live_order(api, db, s)
    # Given a Lambda that dies at any command: no compensation runs at all
    monkeypatch.setattr(Compensations, "run", lambda self, cause: None)
    for k in range(1, len(steps) + 1):
        with inject(FaultPlan(fail_at=k, fault=Fault.REPLY_LOST)):
            assert place(api, s, data, f"died-{k}").status_code in (201, 503)
        # When the repair sweep runs while the request could still be in flight, nothing moves
        before = [db.medicines.find_one({"_id": m["_id"]})["stock"] for m in s["medicines"]]
        pharmacy_sweep.sweep()
        assert [db.medicines.find_one({"_id": m["_id"]})["stock"] for m in s["medicines"]] == before
        # Then once the clock is past REPAIR_AFTER_SECONDS, one sweep gives back every take and
        # reservation no live order holds, and a second changes nothing
        repair_sweep(clock)
        assert_nothing_lost(db, s)
        again = pharmacy_sweep.sweep()
        assert again["stockTakesGivenBack"] == 0 and again["reservationsReleased"] == 0
        assert_nothing_lost(db, s)
        cancel_every_live_order(api, db, s)


def test_cancelling_gives_back_exactly_once_whichever_command_fails(api, db, clock, setting):
    s = setting
    data = three_items(s)
    order_id = body(place(api, s, data, "to-cancel"))["order"]["_id"]
    steps = count_steps(lambda: cancel(api, s, order_id))
    for k in range(1, len(steps) + 1):
        for fault in Fault:
            placed = place(api, s, data, f"c{k}-{fault.value}")
            assert placed.status_code == 201
            target = body(placed)["order"]["_id"]
            # When the k-th command of the cancel fails
            with inject(FaultPlan(fail_at=k, fault=fault)):
                response = cancel(api, s, target)
            # Then never a 500 (a 503 only before the cancel stood: a give-back that fails after it
            # is left to the sweep); a retry of the cancel is answered; and after one repair sweep
            # the stock and the allowance are what the live orders leave, given back once, and the
            # cancelled order counts in no report
            assert response.status_code in (200, 503), (k, steps[k - 1], fault, response.body)
            stored = db.orders.find_one({"_id": ObjectId(target)})
            assert (stored["orderStatus"] == "cancelled") == (response.status_code == 200) or fault is Fault.REPLY_LOST
            assert cancel(api, s, target).status_code in (200, 409)
            repair_sweep(clock)
            assert_nothing_lost(db, s)
            assert db.order_lines.count_documents({"order": ObjectId(target), "live": True}) == 0
            pharmacy_sweep.sweep()
            assert_nothing_lost(db, s)


def test_the_sweep_keeps_the_takes_of_open_orders_for_their_cancel(api, db, clock, setting):
    s = setting
    # Given an order placed long ago, still open
    placed = body(place(api, s, three_items(s), "open"))["order"]
    order_id = placed["_id"]
    # (whose take records are never shown: to another customer, nor to the pharmacy)
    shown = body(call(api, "GET", f"/medicine/{s['plain'][0]['_id']}", as_=make_user("patient")))
    assert "takes" not in str(shown) and "takesPending" not in str(shown) and order_id not in str(shown)
    assert "takesRecorded" not in placed
    # When the repair sweep runs past REPAIR_AFTER_SECONDS
    result = repair_sweep(clock)
    # Then it gives nothing back, and the order's cancel still gives its stock back
    assert result["stockTakesGivenBack"] == 0 and result["reservationsReleased"] == 0
    assert_nothing_lost(db, s)
    assert cancel(api, s, order_id).status_code == 200
    assert_nothing_lost(db, s)
    assert [db.medicines.find_one({"_id": m["_id"]})["stock"] for m in s["medicines"]] == [STOCK] * 3


def test_report_lines_that_failed_after_the_order_are_remade_by_the_sweep(api, db, clock, setting):
    s = setting
    data = three_items(s)
    steps = count_steps(lambda: place(api, s, data, "clean-run"))
    lines_at = steps.index("order_lines.insert_many") + 1
    # When the report lines' insert is refused after the order was stored
    with inject(FaultPlan(fail_at=lines_at, fault=Fault.REFUSED)):
        response = place(api, s, data, "lines-lost")
    # Then the customer has the order (201: that step never fails the request) and no line yet
    assert response.status_code == 201, response.body
    order_id = ObjectId(body(response)["order"]["_id"])
    assert db.order_lines.count_documents({"order": order_id}) == 0
    # And the repair sweep past REPAIR_AFTER_SECONDS writes them, once
    assert repair_sweep(clock)["reportLinesRemade"] == 1
    assert db.order_lines.count_documents({"order": order_id}) == 3
    assert pharmacy_sweep.sweep()["reportLinesRemade"] == 0
