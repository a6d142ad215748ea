"""Many customers at once, each request in its own process through the real Lambda entry point
(concurrent invocations run in separate containers): stock, order numbers, double cancel,
idempotent retries."""

from bson import ObjectId

from tests.http import call
from tests.pharmacy_support import body, make_medicine, make_pharmacy, order_body, patient, race, stock_of


def test_thirty_single_unit_orders_against_stock_ten_make_exactly_ten(api, db, clock, chalice_app):
    # Given a medicine with 10 left and 30 customers
    shop = make_pharmacy()
    medicine = make_medicine(shop, stock=10)
    customers = [patient() for _ in range(30)]
    # When each orders one at the same moment
    outcomes = race(chalice_app, [("POST", "/orders", c, order_body(shop, [(medicine, 1)]), None) for c in customers])
    # Then exactly 10 orders exist, the other 20 were told it is out of stock, stock is 0
    statuses = sorted(status for status, _ in outcomes)
    assert statuses == [201] * 10 + [409] * 20
    assert {b["code"] for s, b in outcomes if s == 409} == {"OUT_OF_STOCK"}
    assert stock_of(db, medicine) == 0
    assert db.orders.count_documents({"pharmacy": shop["_id"]}) == 10


def test_fifty_concurrent_orders_get_fifty_distinct_numbers(api, db, clock, chalice_app):
    shop = make_pharmacy()
    medicine = make_medicine(shop, stock=1000)
    outcomes = race(chalice_app, [("POST", "/orders", patient(), order_body(shop, [(medicine, 1)]), None)
                                  for _ in range(50)])
    numbers = [b["order"]["orderNumber"] for s, b in outcomes if s == 201]
    assert len(numbers) == 50 and len(set(numbers)) == 50
    assert sorted(numbers) == [f"ORD260302{n:04d}" for n in range(1, 51)]
    assert stock_of(db, medicine) == 950


def test_customer_and_pharmacist_cancelling_at_once_restock_once(api, db, clock, chalice_app):
    shop = make_pharmacy()
    medicine = make_medicine(shop, stock=20)
    for trial in range(3):
        customer = patient()
        order = body(call(api, "POST", "/orders", as_=customer, json=order_body(shop, [(medicine, 5)])))["order"]
        assert stock_of(db, medicine) == 15
        outcomes = race(chalice_app, [
            ("PUT", f"/order/{order['_id']}/cancel", customer, {"reason": "changed my mind"}, None),
            ("PUT", f"/order/{order['_id']}/status", shop["ownerUser"], {"status": "cancelled", "note": "no"}, None),
            ("PUT", f"/order/{order['_id']}/cancel", customer, {"reason": "double click"}, None),
        ])
        assert sorted(s for s, _ in outcomes) == [200, 409, 409], (trial, outcomes)
        assert stock_of(db, medicine) == 20
        stored = db.orders.find_one({"_id": ObjectId(order["_id"])})
        assert [h["status"] for h in stored["statusHistory"]] == ["pending", "cancelled"]


def test_concurrent_retries_with_one_idempotency_key_make_one_order(api, db, clock, chalice_app):
    shop = make_pharmacy()
    medicine = make_medicine(shop, stock=100)
    customer = patient()
    data = order_body(shop, [(medicine, 3)])
    outcomes = race(chalice_app, [("POST", "/orders", customer, data, {"Idempotency-Key": "tap-tap-tap"})
                                  for _ in range(6)])
    created = {b["order"]["_id"] for s, b in outcomes if s == 201}
    assert len(created) == 1
    assert all(s == 201 or b["code"] == "REQUEST_IN_PROGRESS" for s, b in outcomes)
    assert stock_of(db, medicine) == 97 and db.orders.count_documents({"customer": customer["_id"]}) == 1


def test_the_repair_sweep_racing_live_orders_and_cancels_gives_back_exactly_what_no_live_order_holds(
        api, db, clock, chalice_app):
    from functions.core import clock as core_clock
    from functions.core.config import get_settings
    from functions.pharmacy import sweep as pharmacy_sweep
    from functions.pharmacy.stores import medicines
    from tests.lambda_race import race_calls

    shop = make_pharmacy()
    medicine = make_medicine(shop, stock=100)
    # Given takes left by requests that died before storing their order (3 x 2 units), orders
    # cancelled whose give-back never ran (2 x 1 unit), and open orders about to be cancelled (3 x 1)
    for _ in range(3):
        assert medicines.take(shop["_id"], medicine["_id"], 2, ObjectId(), core_clock.now())
    customers = [patient() for _ in range(5)]
    placed = [body(call(api, "POST", "/orders", as_=c,
                        json=order_body(shop, [(medicine, 1)])))["order"] for c in customers]
    for order in placed[:2]:
        db.orders.update_one({"_id": ObjectId(order["_id"])}, {"$set": {"orderStatus": "cancelled"}})
    assert stock_of(db, medicine) == 89
    # And the clock past REPAIR_AFTER_SECONDS
    clock.advance(seconds=get_settings().repair_after_seconds + 1)
    buyers = [patient() for _ in range(8)]

    def act(i):
        if i < 8:  # new orders, in flight while the sweepers run
            return call(api, "POST", "/orders", as_=buyers[i], json=order_body(shop, [(medicine, 1)])).status_code
        if i < 11:  # the customers cancel their open orders
            order = placed[i - 6]
            return call(api, "PUT", f"/order/{order['_id']}/cancel", as_=customers[i - 6],
                        json={"reason": "changed my mind"}).status_code
        return pharmacy_sweep.sweep()["stockTakesGivenBack"]  # three sweepers at once

    # When 8 orders, 3 cancels and 3 sweeps run at the same moment, each in its own container
    outcomes = race_calls(act, 14)
    # Then every request succeeded; the sweepers together gave back the 5 leftovers (and perhaps
    # the takes of orders cancelled meanwhile, each once, whoever came first), never the takes of
    # the orders in flight; and stock is 100 minus what live orders hold
    assert outcomes[:11] == [201] * 8 + [200] * 3, outcomes
    assert 5 <= sum(outcomes[11:]) <= 8, outcomes
    live = db.orders.count_documents({"orderStatus": {"$ne": "cancelled"}})
    assert live == 8 and stock_of(db, medicine) == 100 - live
    # And a later sweep past the limit changes nothing (the live orders hold their units)
    clock.advance(seconds=get_settings().repair_after_seconds + 1)
    assert pharmacy_sweep.sweep()["stockTakesGivenBack"] == 0 and stock_of(db, medicine) == 100 - live
