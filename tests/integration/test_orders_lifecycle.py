"""Order lifecycle: the status machine through the API, cancellation restoring stock, rating,
who may read an order, online payments (the seam payments calls) and expired holds."""

import pytest

from functions.pharmacy import api as service
from functions.pharmacy.sweep import sweep
from tests.appointments_support import sent_emails
from tests.factories import make_user
from tests.http import call
from tests.pharmacy_support import body, make_medicine, make_pharmacy, order_body, patient, stock_of

FLOW = ["confirmed", "preparing", "ready", "dispatched", "delivered"]


@pytest.fixture
def scene(api, clock):
    shop = make_pharmacy()
    medicine = make_medicine(shop)
    customer = patient()
    response = call(api, "POST", "/orders", as_=customer, json=order_body(shop, [(medicine, 4)]))
    assert response.status_code == 201, response.body
    return {"shop": shop, "owner": shop["ownerUser"], "medicine": medicine, "customer": customer,
            "order": body(response)["order"]}


def move(api, scene, status, note=""):
    return call(api, "PUT", f"/order/{scene['order']['_id']}/status", as_=scene["owner"],
                json={"status": status, "note": note})


def test_a_delivery_order_walks_the_whole_machine_and_cod_is_paid_on_delivery(api, db, scene):
    for status in FLOW:
        response = move(api, scene, status, f"now {status}")
        assert response.status_code == 200, (status, response.body)
    order = body(response)["order"]
    assert [h["status"] for h in order["statusHistory"]] == ["pending", *FLOW]
    assert order["paymentInfo"]["status"] == "completed" and order["deliveredAt"]
    stored = db.orders.find_one({"orderNumber": order["orderNumber"]})
    assert stored["isRevenue"] is True
    # And the customer heard about each step, with a link to the frontend's order page
    told = [m.body for m in sent_emails() if f"Your order {order['orderNumber']}" in m.body]
    assert len(told) >= len(FLOW)
    assert all(text.endswith("Details: https://app.cureconnect.test/orders") for text in told)
    # And the pharmacist's notice of the new order links to their dashboard, which lists the shop's orders
    assert any(m.body.endswith("Details: https://app.cureconnect.test/pharmacist/dashboard")
               for m in sent_emails() if f"New order {order['orderNumber']}" in m.body)


def test_pickup_goes_from_ready_to_delivered_not_dispatched(api, db, clock):
    shop = make_pharmacy()
    medicine = make_medicine(shop)
    data = order_body(shop, [(medicine, 1)], deliveryInfo={"type": "pickup"})
    order = body(call(api, "POST", "/orders", as_=patient(), json=data))["order"]
    path = f"/order/{order['_id']}/status"
    for status in ("confirmed", "preparing", "ready"):
        assert call(api, "PUT", path, as_=shop["ownerUser"], json={"status": status}).status_code == 200
    assert call(api, "PUT", path, as_=shop["ownerUser"], json={"status": "dispatched"}).status_code == 409
    assert call(api, "PUT", path, as_=shop["ownerUser"], json={"status": "delivered"}).status_code == 200


ILLEGAL = [(current, target) for current in ("pending", "confirmed", "preparing", "ready", "dispatched", "delivered",
                                             "cancelled")
           for target in ("pending", "confirmed", "preparing", "ready", "dispatched", "delivered", "cancelled")
           if (current, target) not in {("pending", "confirmed"), ("pending", "cancelled"),
                                        ("confirmed", "preparing"), ("confirmed", "cancelled"),
                                        ("preparing", "ready"), ("preparing", "cancelled"), ("ready", "cancelled"),
                                        ("ready", "dispatched"), ("dispatched", "delivered")}]


@pytest.mark.parametrize(("current", "target"), ILLEGAL)
def test_every_illegal_transition_is_409(api, db, scene, current, target):
    # D-25 (no state machine: delivered -> pending, cancelled -> delivered were allowed)
    order_id = scene["order"]["_id"]
    from bson import ObjectId

    db.orders.update_one({"_id": ObjectId(order_id)}, {"$set": {"orderStatus": current}})
    response = move(api, scene, target)
    assert (response.status_code, body(response)["code"]) == (409, "ILLEGAL_TRANSITION")
    assert db.orders.find_one({"_id": ObjectId(order_id)})["orderStatus"] == current


def test_the_pharmacist_cancelling_restocks_once(api, db, scene):
    assert stock_of(db, scene["medicine"]) == 46
    for status in ("confirmed", "preparing", "ready"):
        move(api, scene, status)
    assert move(api, scene, "cancelled", "out of delivery staff").status_code == 200
    assert move(api, scene, "cancelled").status_code == 409
    assert stock_of(db, scene["medicine"]) == 50
    stored = db.orders.find_one({"orderNumber": scene["order"]["orderNumber"]})
    assert stored["cancellationReason"] == "out of delivery staff" and stored["isRevenue"] is False


def test_the_customer_cancels_only_pending_or_confirmed_orders(api, db, scene):
    path = f"/order/{scene['order']['_id']}/cancel"
    assert call(api, "PUT", path, as_=patient(), json={"reason": "not mine"}).status_code == 404
    move(api, scene, "confirmed")
    response = call(api, "PUT", path, as_=scene["customer"], json={"reason": "found it cheaper"})
    assert response.status_code == 200
    assert body(response)["order"]["statusHistory"][-1]["note"] == "Cancelled by customer: found it cheaper"
    assert call(api, "PUT", path, as_=scene["customer"], json={}).status_code == 409
    assert stock_of(db, scene["medicine"]) == 50


def test_a_preparing_order_cannot_be_cancelled_by_the_customer(api, db, scene):
    move(api, scene, "confirmed")
    move(api, scene, "preparing")
    response = call(api, "PUT", f"/order/{scene['order']['_id']}/cancel", as_=scene["customer"], json={})
    assert response.status_code == 409 and stock_of(db, scene["medicine"]) == 46


def test_rating_once_after_delivery_keeps_the_pharmacys_average(api, db, scene, clock):
    path = f"/order/{scene['order']['_id']}/rate"
    assert call(api, "PUT", path, as_=scene["customer"], json={"rating": 4}).status_code == 404
    for status in FLOW:
        move(api, scene, status)
    assert call(api, "PUT", path, as_=scene["customer"], json={"rating": 6}).status_code == 400
    assert call(api, "PUT", path, as_=patient(), json={"rating": 5}).status_code == 404
    assert call(api, "PUT", path, as_=scene["customer"], json={"rating": 4, "review": "quick"}).status_code == 200
    again = call(api, "PUT", path, as_=scene["customer"], json={"rating": 1})
    assert (again.status_code, body(again)["code"]) == (409, "ALREADY_RATED")
    # A second delivered order rated 5 makes the average 4.5 (kept as atomic sums, D-41)
    second = body(call(api, "POST", "/orders", as_=scene["customer"],
                       json=order_body(scene["shop"], [(scene["medicine"], 1)])))["order"]
    for status in FLOW:
        call(api, "PUT", f"/order/{second['_id']}/status", as_=scene["owner"], json={"status": status})
    call(api, "PUT", f"/order/{second['_id']}/rate", as_=scene["customer"], json={"rating": 5})
    public = body(call(api, "GET", f"/pharmacy/{scene['shop']['_id']}"))["pharmacy"]
    assert (public["rating"], public["totalReviews"]) == (4.5, 2)


def test_who_may_read_an_order(api, db, scene):
    # D-06 (every user, doctor and admin could read any order with its address and phone)
    path = f"/order/{scene['order']['_id']}"
    assert call(api, "GET", path, as_=scene["customer"]).status_code == 200
    owner_view = call(api, "GET", path, as_=scene["owner"])
    assert owner_view.status_code == 200 and body(owner_view)["order"]["customer"]["name"]
    assert call(api, "GET", path, as_=make_user("admin")).status_code == 200
    assert call(api, "GET", f"/admin/order/{scene['order']['_id']}", as_=make_user("admin")).status_code == 200
    assert call(api, "GET", path, as_=patient()).status_code == 404
    assert call(api, "GET", path, as_=make_pharmacy()["ownerUser"]).status_code == 404
    assert call(api, "GET", path, as_=make_user("doctor")).status_code == 403
    assert call(api, "GET", "/order/not-an-id", as_=scene["customer"]).status_code == 404
    # And reads by others than the customer are audited
    assert db.audit_log.count_documents({"resourceType": "order", "subjectId": scene["customer"]["_id"]}) == 3


def test_lists_for_the_customer_the_pharmacy_and_admins(api, scene):
    mine = body(call(api, "GET", "/orders/my", as_=scene["customer"]))
    assert mine["pagination"]["total"] == 1 and mine["orders"][0]["pharmacy"]["name"]
    assert mine["orders"][0]["pricing"]["totalPrice"] == 140  # 4 x ₹25 + ₹40 delivery, in rupees
    theirs = body(call(api, "GET", "/pharmacy/orders?status=pending", as_=scene["owner"]))
    assert [o["orderNumber"] for o in theirs["orders"]] == [scene["order"]["orderNumber"]]
    assert theirs["orders"][0]["customer"]["email"] == scene["customer"]["contact"]
    assert body(call(api, "GET", "/pharmacy/orders?status=delivered", as_=scene["owner"]))["orders"] == []
    admin = body(call(api, "GET", "/admin/orders", as_=make_user("admin")))
    assert admin["pagination"]["total"] == 1 and admin["orders"][0]["customer"]["name"]
    row = admin["orders"][0]
    assert (row["userId"]["name"], row["pharmacyId"]["name"]) == (scene["customer"]["name"], scene["shop"]["name"])
    assert (row["totalAmount"], row["status"]) == (140, "pending")
    assert body(call(api, "GET", "/orders/my", as_=patient()))["orders"] == []


@pytest.mark.parametrize("role", ["doctor", "pharmacist", "admin", "unapproved pharmacist"])
def test_my_orders_answers_every_signed_in_role_with_only_their_own(api, scene, role):
    # Given a signed-in user who is no patient: the frontend's "Order History" (pharmacists) and
    # "Orders" (admins) links call /orders/my
    who = make_user("pharmacist", approved=False) if role.startswith("unapproved") else make_user(role)
    # When they open it
    response = call(api, "GET", "/orders/my", as_=who)
    # Then it is an empty list, never someone else's orders
    assert response.status_code == 200, response.body
    assert body(response)["orders"] == [] and body(response)["pagination"]["total"] == 0


def test_unpaged_order_lists_hold_up_to_100(api, scene, monkeypatch):
    # Given 12 orders of one customer at one pharmacy (open orders allowed above issue 21's default 3)
    from functions.core.config import reset_settings

    monkeypatch.setenv("MAX_OPEN_ORDERS_PER_CUSTOMER", "20")
    reset_settings()
    for _ in range(11):
        response = call(api, "POST", "/orders", as_=scene["customer"],
                        json=order_body(scene["shop"], [(scene["medicine"], 1)]))
        assert response.status_code == 201, response.body
    admin = make_user("admin")
    # When the frontend lists them without page or limit, and a client asks for a page
    lists = [body(call(api, "GET", path, as_=who)) for path, who in (
        ("/orders/my", scene["customer"]), ("/pharmacy/orders", scene["owner"]), ("/admin/orders", admin))]
    paged = body(call(api, "GET", "/orders/my?page=1", as_=scene["customer"]))
    # Then the lists hold all twelve, newest first, and a page keeps its default size
    for answer in lists:
        assert len(answer["orders"]) == 12 and answer["pagination"]["limit"] == 100
        assert answer["orders"][-1]["_id"] == scene["order"]["_id"]
    assert len(paged["orders"]) == 10 and paged["pagination"] == {"total": 12, "page": 1, "pages": 2, "limit": 10}


# ---------------------------------------------------------------- online payment (the payments seam)


@pytest.fixture
def online(api, clock):
    shop = make_pharmacy()
    medicine = make_medicine(shop)
    customer = patient()
    data = order_body(shop, [(medicine, 2)], paymentInfo={"method": "online"})
    order = body(call(api, "POST", "/orders", as_=customer, json=data))["order"]
    return {"shop": shop, "medicine": medicine, "customer": customer, "order": order}


def test_an_online_order_waits_for_its_payment(api, db, online):
    order_id = online["order"]["_id"]
    owner = online["shop"]["ownerUser"]
    early = call(api, "PUT", f"/order/{order_id}/status", as_=owner, json={"status": "confirmed"})
    assert (early.status_code, body(early)["code"]) == (409, "PAYMENT_PENDING")
    assert service.payable_order(order_id, online["customer"]["_id"]) == (9000, "INR")
    with pytest.raises(Exception):  # noqa: B017 - NotFound for anyone else
        service.payable_order(order_id, patient()["_id"])
    assert service.record_order_payment(order_id, "paid", "pi_123") is True
    assert service.record_order_payment(order_id, "paid", "pi_123") is True  # the webhook retried
    stored = db.orders.find_one({"orderNumber": online["order"]["orderNumber"]})
    assert stored["paymentInfo"]["status"] == "completed" and stored["paymentInfo"]["transactionId"] == "pi_123"
    assert stored["isRevenue"] is True and stored["awaitingPayment"] is False
    assert call(api, "PUT", f"/order/{order_id}/status", as_=owner, json={"status": "confirmed"}).status_code == 200
    with pytest.raises(Exception):  # noqa: B017 - nothing left to pay
        service.payable_order(order_id, online["customer"]["_id"])


def test_an_expired_hold_gives_the_stock_back_and_a_late_payment_is_refused(api, db, online, clock):
    assert stock_of(db, online["medicine"]) == 48
    clock.advance(minutes=14)
    assert sweep()["expiredOrderHolds"] == 0
    clock.advance(minutes=2)
    from functions import registry

    assert registry.sweep()["expiredOrderHolds"] == 1  # the platform's one sweeper runs it
    assert sweep()["expiredOrderHolds"] == 0
    assert stock_of(db, online["medicine"]) == 50
    assert db.orders.find_one({"orderNumber": online["order"]["orderNumber"]})["orderStatus"] == "cancelled"
    # the money arriving now is not wanted: payments refunds it
    assert service.record_order_payment(online["order"]["_id"], "paid", "pi_late") is False


def test_a_canceled_payment_cancels_the_order_and_restocks(api, db, online):
    service.record_order_payment(online["order"]["_id"], "failed", "pi_1")
    assert db.orders.find_one({"orderNumber": online["order"]["orderNumber"]})["paymentInfo"]["status"] == "failed"
    service.record_order_payment(online["order"]["_id"], "canceled", "pi_1")
    assert stock_of(db, online["medicine"]) == 50
    service.record_order_payment(online["order"]["_id"], "canceled", "pi_1")
    assert stock_of(db, online["medicine"]) == 50
