"""Placing orders: prices from the database, per-item checks, delivery charge, prescription
gating, stock compensation, order numbers, Idempotency-Key, mass assignment."""

import pytest
from bson import ObjectId

from tests.appointments_support import sent_emails
from tests.factories import make_user
from tests.http import call
from tests.pharmacy_support import body, make_medicine, make_pharmacy, order_body, patient, stock_of
from tests.prescriptions_support import doctor, issue


@pytest.fixture
def shop(api, clock):
    return make_pharmacy()


def place(api, who, data, **headers):
    return call(api, "POST", "/orders", as_=who, json=data, headers=headers or None)


def test_an_order_is_priced_from_the_database_and_takes_stock(api, db, shop):
    # Given a medicine at ₹25.00 (MRP ₹30.00) with 50 in stock
    medicine = make_medicine(shop, price=25, mrp=30)
    customer = patient()
    # When a patient orders 3, claiming a price and a paid status of their own
    data = order_body(shop, [(medicine, 3)], paymentInfo={"method": "cod", "status": "completed",
                                                          "transactionId": "fake"})
    response = place(api, customer, data)
    # Then the order is priced from the database, unpaid, pending, with its number and history
    assert response.status_code == 201, response.body
    order = body(response)["order"]
    assert order["pricing"] == {"itemsPrice": 75, "discount": 15, "deliveryCharge": 40, "totalPrice": 115,
                                "currency": "INR"}  # rupees at the API...
    stored = db.orders.find_one({"_id": ObjectId(order["_id"])})
    assert (stored["pricing"]["totalPrice"], stored["items"][0]["price"]) == (11500, 2500)  # ...paise stored
    assert order["paymentInfo"] == {"method": "cod", "status": "pending"}
    assert order["orderStatus"] == "pending" and order["orderNumber"] == "ORD2603020001"
    assert order["statusHistory"][0]["note"] == "Order placed successfully"
    assert order["items"][0]["medicine"]["name"] == "Paracetamol" and order["items"][0]["lineTotal"] == 75
    assert (order["items"][0]["price"], order["items"][0]["mrp"], order["items"][0]["discount"]) == (25, 30, 16)
    assert order["pharmacy"]["name"] == shop["name"]
    assert stock_of(db, medicine) == 47
    assert db.pharmacies.find_one({"_id": shop["_id"]})["totalOrders"] == 1
    # And the pharmacist is told (no one is online on the WebSocket here, so by e-mail)
    assert any("ORD2603020001" in m.body for m in sent_emails())


def test_an_online_pharmacist_hears_of_the_order_over_the_websocket(api, db, shop, monkeypatch):
    from functions.signaling import api as signaling

    pushed = []
    monkeypatch.setattr(signaling, "push_to_user", lambda user_id, message: pushed.append((user_id, message)) or 1)
    before = len(sent_emails())
    response = place(api, patient(), order_body(shop, [(make_medicine(shop), 1)]))
    assert response.status_code == 201
    assert pushed == [(shop["owner"], {"type": "order_placed", "orderId": body(response)["order"]["_id"],
                                       "orderNumber": "ORD2603020001"})]
    assert len(sent_emails()) == before  # no e-mail when the push reached a live page


@pytest.mark.parametrize(("delivery", "quantity", "charge"), [
    ({"type": "delivery"}, 19, 40),      # ₹475.00 < ₹500.00: the pharmacy's charge
    ({"type": "delivery"}, 20, 0),       # ₹500.00 reaches freeDeliveryAbove
    ({"type": "pickup"}, 1, 0),
])
def test_delivery_charge_follows_the_pharmacys_settings(api, shop, delivery, quantity, charge):
    # D-40 (the charge was hard-coded at 50 under 500, whatever the pharmacy said)
    medicine = make_medicine(shop, price=25, mrp=25)
    response = place(api, patient(), order_body(shop, [(medicine, quantity)], deliveryInfo=delivery))
    assert response.status_code == 201, response.body
    assert body(response)["order"]["pricing"]["deliveryCharge"] == charge


def test_pickup_needs_no_address_but_delivery_does(api, shop):
    medicine = make_medicine(shop)
    pickup = order_body(shop, [(medicine, 1)], deliveryInfo={"type": "pickup"})
    del pickup["shippingAddress"]
    assert place(api, patient(), pickup).status_code == 201
    delivery = order_body(shop, [(medicine, 1)])
    del delivery["shippingAddress"]
    assert place(api, patient(), delivery).status_code == 400


@pytest.mark.parametrize("items", [
    [{"quantity": 0}], [{"quantity": 101}], [{"quantity": 1.5}], [{"quantity": "1.5"}], [{"quantity": -3}],
    [{"quantity": True}], [{"quantity": "two"}], [{"quantity": ""}],
])
def test_quantities_are_whole_numbers_from_1_to_100(api, db, shop, items):
    # D-24 (a negative quantity increased stock)
    medicine = make_medicine(shop)
    data = order_body(shop, [(medicine, 1)])
    data["items"] = [{"medicine": str(medicine["_id"]), **i} for i in items]
    assert place(api, patient(), data).status_code == 400
    assert stock_of(db, medicine) == 50


def test_a_quantity_may_come_as_a_numeric_string(api, db, shop):
    # Given a cart whose quantity went through a form input
    medicine = make_medicine(shop)
    data = order_body(shop, [(medicine, 1)])
    data["items"] = [{"medicine": str(medicine["_id"]), "quantity": "2"}]
    # When it is ordered
    response = place(api, patient(), data)
    # Then two are ordered
    assert response.status_code == 201, response.body
    assert body(response)["order"]["items"][0]["quantity"] == 2 and stock_of(db, medicine) == 48


@pytest.mark.parametrize("forged", [{"pricing": {"totalPrice": 1}}, {"orderStatus": "delivered"},
                                    {"customer": "0" * 24}, {"orderNumber": "ORD1"}])
def test_server_fields_cannot_be_posted(api, shop, forged):
    medicine = make_medicine(shop)
    assert place(api, patient(), order_body(shop, [(medicine, 1)], **forged)).status_code == 400


def test_the_same_medicine_twice_is_refused(api, shop):
    medicine = make_medicine(shop)
    assert place(api, patient(), order_body(shop, [(medicine, 1), (medicine, 2)])).status_code == 400


def test_items_must_belong_to_the_pharmacy_and_be_active_and_unexpired(api, db, shop, clock):
    # D-40 (cross-pharmacy, inactive and expired items could be ordered)
    fine = make_medicine(shop)
    elsewhere = make_medicine(make_pharmacy())
    inactive = make_medicine(shop, isActive=False)
    expired = make_medicine(shop, expiryDate="2026-03-01")
    for bad, code in ((elsewhere, "ITEM_UNAVAILABLE"), (inactive, "ITEM_UNAVAILABLE"), (expired, "ITEM_EXPIRED")):
        response = place(api, patient(), order_body(shop, [(fine, 1), (bad, 1)]))
        assert (response.status_code, body(response)["code"]) == (422, code)
    assert stock_of(db, fine) == 50 and stock_of(db, elsewhere) == 50


@pytest.mark.parametrize("status", ["pending", "rejected", "suspended"])
def test_unverified_or_suspended_pharmacies_take_no_orders(api, db, status):
    closed = make_pharmacy(verification=status)
    medicine = make_medicine(closed)
    response = place(api, patient(), order_body(closed, [(medicine, 1)]))
    assert response.status_code == 404
    assert stock_of(db, medicine) == 50 and db.orders.count_documents({}) == 0


def test_only_patients_order(api, shop):
    medicine = make_medicine(shop)
    for role in ("doctor", "pharmacist", "admin"):
        assert place(api, make_user(role), order_body(shop, [(medicine, 1)])).status_code == 403
    assert call(api, "POST", "/orders", as_=None, json=order_body(shop, [(medicine, 1)])).status_code == 401


def test_a_failing_last_item_gives_back_the_earlier_ones(api, db, shop):
    # Given two medicines in stock and a third with only 1 left
    first, second = make_medicine(shop, name="A"), make_medicine(shop, name="B")
    scarce = make_medicine(shop, name="C", stock=1)
    # When an order wants 2 of the scarce one
    response = place(api, patient(), order_body(shop, [(first, 5), (second, 4), (scarce, 2)]))
    # Then it is refused and every unit taken for the earlier items is back
    assert (response.status_code, body(response)["code"]) == (409, "OUT_OF_STOCK")
    assert (stock_of(db, first), stock_of(db, second), stock_of(db, scarce)) == (50, 50, 1)
    assert db.orders.count_documents({}) == 0 and db.order_counters.count_documents({}) == 0


def test_order_numbers_count_per_local_day(api, shop, clock):
    medicine = make_medicine(shop)
    numbers = [body(place(api, patient(), order_body(shop, [(medicine, 1)])))["order"]["orderNumber"]
               for _ in range(2)]
    clock.advance(hours=14)  # 2026-03-03 05:30 in Asia/Kolkata
    numbers.append(body(place(api, patient(), order_body(shop, [(medicine, 1)])))["order"]["orderNumber"])
    assert numbers == ["ORD2603020001", "ORD2603020002", "ORD2603030001"]


def test_a_retry_with_the_same_idempotency_key_returns_the_same_order(api, db, shop):
    medicine = make_medicine(shop)
    customer = patient()
    data = order_body(shop, [(medicine, 2)])
    first = place(api, customer, data, **{"Idempotency-Key": "checkout-42"})
    retry = place(api, customer, data, **{"Idempotency-Key": "checkout-42"})
    assert first.status_code == retry.status_code == 201
    assert body(first)["order"]["_id"] == body(retry)["order"]["_id"]
    assert retry.headers.get("Idempotent-Replayed") == "true"
    assert stock_of(db, medicine) == 48 and db.orders.count_documents({}) == 1
    # And the key cannot be reused for another order, while another customer's same key is theirs
    other = place(api, customer, order_body(shop, [(medicine, 5)]), **{"Idempotency-Key": "checkout-42"})
    assert (other.status_code, body(other)["code"]) == (422, "IDEMPOTENCY_KEY_REUSED")
    assert place(api, patient(), data, **{"Idempotency-Key": "checkout-42"}).status_code == 201
    assert stock_of(db, medicine) == 46


def test_idempotency_claims_are_kept_two_days_then_purged_by_the_sweeper(api, db, shop, clock):
    from functions import registry

    # Given an order placed with an Idempotency-Key
    medicine = make_medicine(shop)
    customer = patient()
    data = order_body(shop, [(medicine, 1)])
    first = place(api, customer, data, **{"Idempotency-Key": "old-key"})
    assert first.status_code == 201 and db.idempotency_keys.find_one({})["day"] == "2026-03-02"
    # When the sweeper runs the next day, a retry still replays the same order
    clock.advance(days=1)
    assert registry.sweep().get("idempotencyKeysDropped") == 0
    assert body(place(api, customer, data, **{"Idempotency-Key": "old-key"}))["order"]["_id"] == \
        body(first)["order"]["_id"]
    # Then two days later the claim is gone
    clock.advance(days=1)
    assert registry.sweep()["idempotencyKeysDropped"] == 1
    assert db.idempotency_keys.count_documents({}) == 0


def test_a_refused_order_frees_its_idempotency_key(api, db, shop):
    medicine = make_medicine(shop, stock=1)
    customer = patient()
    data = order_body(shop, [(medicine, 2)])
    assert place(api, customer, data, **{"Idempotency-Key": "k1"}).status_code == 409
    db.medicines.update_one({"_id": medicine["_id"]}, {"$set": {"stock": 5}})
    assert place(api, customer, data, **{"Idempotency-Key": "k1"}).status_code == 201


# ---------------------------------------------------------------- prescription-only medicines


@pytest.fixture
def rx_setting(api, shop):
    """A prescription of Amoxicillin 500 mg x21 (among others) for a patient, and the shop's
    prescription-only amoxicillin."""
    author, customer = doctor(), patient()
    rx = issue(api, author, customer)
    amox = make_medicine(shop, name="Amoxil", genericName="Amoxicillin", strength="500 mg", category="Antibiotics",
                         prescriptionRequired=True)
    return {"rx": rx, "customer": customer, "amox": amox}


def test_prescription_only_items_without_a_prescription_are_422(api, db, shop, rx_setting):
    plain = make_medicine(shop)
    response = place(api, rx_setting["customer"], order_body(shop, [(plain, 1), (rx_setting["amox"], 7)]))
    assert (response.status_code, body(response)["code"]) == (422, "PRESCRIPTION_REQUIRED")
    assert stock_of(db, plain) == 50 and stock_of(db, rx_setting["amox"]) == 50


def test_a_prescription_is_consumed_by_orders_and_cannot_buy_more_than_prescribed(api, db, shop, rx_setting,
                                                                                   monkeypatch):
    from functions.core.config import reset_settings

    # above issue 21's default 20 units: the rule under test is the prescription's
    monkeypatch.setenv("MAX_UNITS_PER_MEDICINE_PER_CUSTOMER", "50")
    reset_settings()
    customer, amox, rx = rx_setting["customer"], rx_setting["amox"], rx_setting["rx"]
    # When the patient orders 14 of the 21 prescribed, then 14 again
    first = place(api, customer, order_body(shop, [(amox, 14)], prescriptionId=rx["_id"]))
    second = place(api, customer, order_body(shop, [(amox, 14)], prescriptionId=rx["_id"]))
    # Then the first is placed and the second refused, with its stock given back
    assert first.status_code == 201, first.body
    assert (second.status_code, body(second)["code"]) == (422, "PRESCRIPTION_INVALID")
    assert stock_of(db, amox) == 36
    # And the pharmacist of that order may now read the prescription
    pharmacist_user = db.users.find_one({"_id": db.pharmacies.find_one({"_id": shop["_id"]})["owner"]})
    assert call(api, "GET", f"/prescription/{rx['_id']}", as_=pharmacist_user).status_code == 200


def test_someone_elses_prescription_does_not_help(api, db, shop, rx_setting):
    data = order_body(shop, [(rx_setting["amox"], 1)], prescriptionId=rx_setting["rx"]["_id"])
    response = place(api, patient(), data)
    assert (response.status_code, body(response)["code"]) == (422, "PRESCRIPTION_INVALID")
    response = place(api, rx_setting["customer"], order_body(shop, [(rx_setting["amox"], 1)],
                                                             prescriptionId=str(ObjectId())))
    assert response.status_code == 422
    assert stock_of(db, rx_setting["amox"]) == 50


def test_cancelling_gives_the_prescription_back(api, db, shop, rx_setting, monkeypatch):
    from functions.core.config import reset_settings

    # above issue 21's default 20 units: the rule under test is the prescription's
    monkeypatch.setenv("MAX_UNITS_PER_MEDICINE_PER_CUSTOMER", "50")
    reset_settings()
    customer, amox, rx = rx_setting["customer"], rx_setting["amox"], rx_setting["rx"]
    order = body(place(api, customer, order_body(shop, [(amox, 21)], prescriptionId=rx["_id"])))["order"]
    assert call(api, "PUT", f"/order/{order['_id']}/cancel", as_=customer,
                json={"reason": "changed my mind"}).status_code == 200
    assert place(api, customer, order_body(shop, [(amox, 21)], prescriptionId=rx["_id"])).status_code == 201
