"""Paying for pharmacy orders through the pharmacy's seam (payable_order / record_order_payment),
and the refund when a paid order is cancelled."""
# ruff: noqa: F811  (pytest fixtures imported from tests.payments_support)

import json

from bson import ObjectId

from functions.core import clock
from functions.core.db import get_db
from tests.appointments_support import body
from tests.factories import json_headers, make_user
from tests.payments_support import (  # noqa: F401  (fixtures)
    event,
    intent_object,
    payment,
    post_webhook,
    stripe_api,
    stripe_mock,
)


def order_of(customer, total=123_45, method="online"):
    """An unpaid online order written straight to the database (ordering is the pharmacy suites' job),
    with every key placing writes (its answers are validated against the documented order)."""
    now = clock.now()
    doc = {"orderNumber": f"ORD-{ObjectId()}", "customer": customer["_id"], "pharmacy": ObjectId(), "items": [],
           "pricing": {"itemsPrice": total, "discount": 0, "deliveryCharge": 0, "totalPrice": total,
                       "currency": "INR"}, "orderStatus": "pending",
           "paymentInfo": {"method": method, "status": "pending", "holdExpiresAt": now}, "awaitingPayment": True,
           "shippingAddress": None, "deliveryInfo": {"type": "pickup"}, "specialInstructions": "", "isUrgent": False,
           "prescription": None, "statusHistory": [], "createdAt": now, "updatedAt": now}
    doc["_id"] = get_db()["orders"].insert_one(doc).inserted_id
    return doc


def pay(client, who, order):
    return client.http.post("/api/v1/payments/intent", headers=json_headers(who),
                            body=json.dumps({"kind": "order", "id": str(order["_id"])}).encode())


def test_an_order_is_paid_for_its_total_and_marked_paid(client, clock, stripe_api):
    # Given a patient's unpaid online order of 123.45 INR
    who = make_user("patient")
    order = order_of(who)
    # When they pay for it and Stripe reports success
    response = pay(client, who, order)
    assert response.status_code == 201, response.body
    assert body(response)["amount"] == 123.45  # rupees at the API, paise to Stripe
    ref = f"order:{order['_id']}"
    [call] = stripe_api.to("/v1/payment_intents")
    assert call["params"]["amount"] == "12345" and call["params"]["metadata[ref]"] == ref
    intent_id = body(response)["paymentIntentId"]
    assert post_webhook(client, event("payment_intent.succeeded", intent_object(intent_id, ref, 12345))).status_code \
        == 200
    # Then the pharmacy's order shows the payment
    info = get_db()["orders"].find_one({"_id": order["_id"]})["paymentInfo"]
    assert info["status"] == "completed" and info["transactionId"] == intent_id
    assert payment(ref)["status"] == "succeeded"


def test_only_the_customers_unpaid_online_orders_can_be_paid(client, clock, stripe_api):
    # Given a patient's order, a cash-on-delivery order, and another patient
    who, other = make_user("patient"), make_user("patient")
    order, cod = order_of(who), order_of(who, method="cod")
    # When the other patient pays the order, or the owner pays the COD one
    answers = [pay(client, other, order).status_code, pay(client, who, cod).status_code]
    # Then both are not found and Stripe is never called
    assert answers == [404, 404] and stripe_api.calls == []


def test_cancelling_a_paid_order_refunds_it_in_full(client, clock, stripe_api):
    # Given a paid order
    who = make_user("patient")
    order = order_of(who)
    ref = f"order:{order['_id']}"
    intent_id = body(pay(client, who, order))["paymentIntentId"]
    post_webhook(client, event("payment_intent.succeeded", intent_object(intent_id, ref, 12345)))
    # When the customer cancels it through the pharmacy's route
    response = client.http.put(f"/api/v1/order/{order['_id']}/cancel", headers=json_headers(who),
                               body=b'{"reason": "ordered twice"}')
    # Then the whole amount is refunded and the order says so
    assert response.status_code == 200, response.body
    [refund] = stripe_api.to("/v1/refunds")
    assert refund["params"]["amount"] == "12345" and refund["params"]["payment_intent"] == intent_id
    assert payment(ref)["status"] == "refunded"
    assert get_db()["orders"].find_one({"_id": order["_id"]})["paymentInfo"]["status"] == "refunded"
    # And the payer reads both amounts in rupees
    seen = body(client.http.get(f"/api/v1/payments/order/{order['_id']}", headers=json_headers(who)))["payment"]
    assert (seen["amount"], seen["refundedAmount"], seen["currency"]) == (123.45, 123.45, "INR")


def test_money_for_an_order_cancelled_meanwhile_goes_back(client, clock, stripe_api):
    # Given an intent for an order that is then cancelled (its payment hold expired)
    who = make_user("patient")
    order = order_of(who)
    ref = f"order:{order['_id']}"
    intent_id = body(pay(client, who, order))["paymentIntentId"]
    get_db()["orders"].update_one({"_id": order["_id"]}, {"$set": {"orderStatus": "cancelled",
                                                                    "awaitingPayment": False}})
    # When the payment succeeds anyway
    post_webhook(client, event("payment_intent.succeeded", intent_object(intent_id, ref, 12345)))
    # Then it is refunded at once
    assert len(stripe_api.to("/v1/refunds")) == 1 and payment(ref)["status"] == "refunded"
