"""Issue 21 item 2, stock hoarding: a customer holds at most MAX_OPEN_ORDERS_PER_CUSTOMER open
orders at one pharmacy and MAX_UNITS_PER_MEDICINE_PER_CUSTOMER units of a medicine across them,
decided by one conditional write (races included); orders the pharmacy has not confirmed within
ORDER_CONFIRM_HOURS are cancelled by the sweep ("not confirmed in time"), stock back once."""

from bson import ObjectId

from functions.pharmacy.sweep import sweep
from tests.http import call
from tests.pharmacy_support import body, make_medicine, make_pharmacy, order_body, patient, race, stock_of


def test_one_patient_cannot_take_a_stock_of_300_with_three_orders(api, db, clock):
    # Given a medicine with 300 in stock
    shop = make_pharmacy()
    medicine = make_medicine(shop, stock=300)
    hoarder = patient()
    # When one patient orders 100 units
    response = call(api, "POST", "/orders", as_=hoarder, json=order_body(shop, [(medicine, 100)]))
    # Then it is refused as above the per-customer limit, and the stock is untouched
    assert (response.status_code, body(response)["code"]) == (409, "ORDER_LIMIT")
    assert stock_of(db, medicine) == 300
    # And 20 units in one order pass, one more unit in a second order does not
    assert call(api, "POST", "/orders", as_=hoarder, json=order_body(shop, [(medicine, 20)])).status_code == 201
    again = call(api, "POST", "/orders", as_=hoarder, json=order_body(shop, [(medicine, 1)]))
    assert (again.status_code, body(again)["code"]) == (409, "ORDER_LIMIT")
    assert stock_of(db, medicine) == 280
    # And another patient still can order
    assert call(api, "POST", "/orders", as_=patient(), json=order_body(shop, [(medicine, 20)])).status_code == 201


def test_a_fourth_open_order_at_one_pharmacy_is_refused_until_one_closes(api, db, clock):
    shop = make_pharmacy()
    medicine = make_medicine(shop, stock=100)
    customer = patient()
    placed = [body(call(api, "POST", "/orders", as_=customer, json=order_body(shop, [(medicine, 1)])))["order"]
              for _ in range(3)]
    fourth = call(api, "POST", "/orders", as_=customer, json=order_body(shop, [(medicine, 1)]))
    assert (fourth.status_code, body(fourth)["code"]) == (409, "ORDER_LIMIT")
    assert stock_of(db, medicine) == 97
    # When the customer cancels one, and the pharmacy delivers another
    assert call(api, "PUT", f"/order/{placed[0]['_id']}/cancel", as_=customer, json={"reason": "x"}).status_code == 200
    owner = shop["ownerUser"]
    for status in ("confirmed", "preparing", "ready", "dispatched", "delivered"):
        assert call(api, "PUT", f"/order/{placed[1]['_id']}/status", as_=owner,
                    json={"status": status}).status_code == 200
    # Then two more orders may be placed, not three
    assert [call(api, "POST", "/orders", as_=customer, json=order_body(shop, [(medicine, 1)])).status_code
            for _ in range(3)] == [201, 201, 409]
    # And another pharmacy is not limited by this one
    other = make_pharmacy()
    assert call(api, "POST", "/orders", as_=customer,
                json=order_body(other, [(make_medicine(other), 1)])).status_code == 201


def test_twenty_parallel_orders_of_one_customer_make_exactly_the_limit(api, db, clock, chalice_app):
    # Given one customer and a limit of 3 open orders
    shop = make_pharmacy()
    medicine = make_medicine(shop, stock=100)
    customer = patient()
    # When 20 orders are placed at the same moment
    outcomes = race(chalice_app, [("POST", "/orders", customer, order_body(shop, [(medicine, 1)]), None)
                                  for _ in range(20)])
    # Then exactly 3 stand, and the stock lost exactly 3
    assert sorted(s for s, _ in outcomes) == [201] * 3 + [409] * 17
    assert {b["code"] for s, b in outcomes if s == 409} == {"ORDER_LIMIT"}
    assert stock_of(db, medicine) == 97
    assert db.orders.count_documents({"customer": customer["_id"]}) == 3


def test_twenty_parallel_orders_of_units_make_exactly_the_unit_limit(api, db, clock, chalice_app, monkeypatch):
    # Given a unit limit of 20 and open orders allowed freely
    from functions.core.config import reset_settings

    monkeypatch.setenv("MAX_OPEN_ORDERS_PER_CUSTOMER", "50")
    reset_settings()
    shop = make_pharmacy()
    medicine = make_medicine(shop, stock=100)
    customer = patient()
    # When 20 orders of 2 units each are placed at once
    outcomes = race(chalice_app, [("POST", "/orders", customer, order_body(shop, [(medicine, 2)]), None)
                                  for _ in range(20)])
    # Then 10 stand (20 units), and 80 units are left
    assert sorted(s for s, _ in outcomes) == [201] * 10 + [409] * 10
    assert stock_of(db, medicine) == 80


def test_an_order_not_confirmed_in_time_is_cancelled_by_the_sweep_and_restocks_once(api, db, clock):
    # Given an order the pharmacy never confirms, and one it confirms
    shop = make_pharmacy()
    medicine = make_medicine(shop, stock=50)
    customer = patient()
    waiting = body(call(api, "POST", "/orders", as_=customer, json=order_body(shop, [(medicine, 5)])))["order"]
    confirmed = body(call(api, "POST", "/orders", as_=patient(), json=order_body(shop, [(medicine, 4)])))["order"]
    call(api, "PUT", f"/order/{confirmed['_id']}/status", as_=shop["ownerUser"], json={"status": "confirmed"})
    assert stock_of(db, medicine) == 41
    # When 23 hours pass, nothing happens; at 24 hours the sweep cancels the waiting order
    clock.advance(hours=23, minutes=59)
    assert sweep()["unconfirmedOrdersCancelled"] == 0
    clock.advance(minutes=1)
    assert sweep()["unconfirmedOrdersCancelled"] == 1
    assert sweep()["unconfirmedOrdersCancelled"] == 0
    # Then the customer sees it cancelled "not confirmed in time", the stock is back exactly once
    seen = body(call(api, "GET", f"/order/{waiting['_id']}", as_=customer))["order"]
    assert seen["orderStatus"] == "cancelled" and seen["cancellationReason"] == "not confirmed in time"
    assert stock_of(db, medicine) == 46
    assert db.orders.find_one({"_id": ObjectId(confirmed["_id"])})["orderStatus"] == "confirmed"
    # And the pharmacy can no longer confirm it, nor the customer cancel it again
    late = call(api, "PUT", f"/order/{waiting['_id']}/status", as_=shop["ownerUser"], json={"status": "confirmed"})
    assert late.status_code == 409
    assert call(api, "PUT", f"/order/{waiting['_id']}/cancel", as_=customer, json={"reason": "x"}).status_code == 409
    assert stock_of(db, medicine) == 46
    # And its hold is released: the customer may order again
    assert call(api, "POST", "/orders", as_=customer, json=order_body(shop, [(medicine, 20)])).status_code == 201


def test_a_hold_left_by_a_placing_that_died_is_given_back_by_the_repair_sweep(api, db, clock):
    # Given a customer's hold whose order was never stored (the Lambda died after taking it)
    from functions.pharmacy.stores import order_holds

    shop = make_pharmacy()
    medicine = make_medicine(shop, stock=100)
    customer = patient()
    for _ in range(3):
        assert order_holds.take(customer["_id"], shop["_id"], ObjectId(), {medicine["_id"]: 1}, 3, 20, clock())
    refused = call(api, "POST", "/orders", as_=customer, json=order_body(shop, [(medicine, 1)]))
    assert (refused.status_code, body(refused)["code"]) == (409, "ORDER_LIMIT")
    # When the repair limit passes and the sweep runs
    clock.advance(minutes=5)
    assert sweep()["holdsReleased"] == 3
    assert sweep()["holdsReleased"] == 0
    # Then the customer may order again
    assert call(api, "POST", "/orders", as_=customer, json=order_body(shop, [(medicine, 1)])).status_code == 201
