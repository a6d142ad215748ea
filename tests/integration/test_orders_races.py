"""Many customers at once, each request in its own process through the real Lambda entry point
(concurrent invocations run in separate containers): stock, order numbers, double cancel,
idempotent retries."""

from bson import ObjectId

from tests.pharmacy_support import body, call, make_medicine, make_pharmacy, order_body, patient, race, stock_of


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
        order = body(call(api, "POST", "/orders", customer, order_body(shop, [(medicine, 5)])))["order"]
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
