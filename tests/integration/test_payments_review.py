"""GET /admin/payments/flagged (issue 21 item 11): a success event that did not take what was
charged leaves the payment unpaid and flagged; admins see those payments to act on them."""
# ruff: noqa: F811  (pytest fixtures imported from tests.payments_support)

from functions.core.db import get_db
from tests.factories import bearer, make_user
from tests.http import body, call
from tests.payments_support import (  # noqa: F401  (fixtures)
    event,
    intent_object,
    paid,
    post_webhook,
    scene,
    stripe_api,
    stripe_mock,
)


def _intent(client, s):
    response = call(client, "POST", "/payments/intent", json={"kind": "appointment", "id": str(s["appt"]["_id"])},
                    headers=bearer(s["patient"]))
    assert response.status_code == 201, response.body
    return body(response)["paymentIntentId"], f"appointment:{s['appt']['_id']}"


def test_an_admin_sees_a_payment_flagged_for_another_amount_and_nothing_paid_properly(client, clock, stripe_api):
    # Given a 500.00 INR payment whose success took 1 paisa, and another paid in full
    s = scene()
    intent_id, ref = _intent(client, s)
    short = {**intent_object(intent_id, ref), "amount_received": 1}
    assert post_webhook(client, event("payment_intent.succeeded", short)).status_code == 200
    paid(client, scene())
    admin = make_user("admin")
    # When an admin lists the flagged payments
    response = call(client, "GET", "/admin/payments/flagged", headers=bearer(admin))
    # Then the flagged one is listed, with what was charged and what Stripe took, and only it
    assert response.status_code == 200, response.body
    answer = body(response)
    assert answer["pagination"] == {"total": 1, "page": 1, "pages": 1, "limit": 20}
    [listed] = answer["payments"]
    assert listed["id"] == ref and listed["kind"] == "appointment" and listed["targetId"] == str(s["appt"]["_id"])
    assert listed["status"] == "requires_payment" and listed["payerId"] == str(s["patient"]["_id"])
    assert listed["amount"] == 500 and listed["currency"] == "INR"
    assert listed["flag"]["reason"] == "amount_or_currency_mismatch"
    assert listed["flag"]["paymentIntentId"] == intent_id
    assert listed["flag"]["amountReceived"] == 0.01 and listed["flag"]["currency"] == "INR"
    # And the reading is audited
    assert get_db()["audit_log"].count_documents({"action": "list", "resourceType": "payment",
                                                  "actorId": admin["_id"]}) == 1


def test_a_success_in_another_currency_shows_the_amount_in_that_currency(client, clock, stripe_api):
    # Given a 500.00 INR payment whose success took 500 JPY (a zero-decimal currency)
    s = scene()
    intent_id, ref = _intent(client, s)
    yen = {**intent_object(intent_id, ref), "amount_received": 500, "currency": "jpy"}
    assert post_webhook(client, event("payment_intent.succeeded", yen)).status_code == 200
    # When an admin lists the flagged payments
    [listed] = body(call(client, "GET", "/admin/payments/flagged", headers=bearer(make_user("admin"))))["payments"]
    # Then the reported amount is read in the reported currency
    assert listed["flag"]["amountReceived"] == 500 and listed["flag"]["currency"] == "JPY"
    assert listed["amount"] == 500 and listed["currency"] == "INR"


def test_only_admins_see_flagged_payments_and_a_bad_page_is_a_400(client, clock):
    # Given callers of every other role, and no caller
    for role in ("patient", "doctor", "pharmacist"):
        # When they ask for the flagged payments
        response = call(client, "GET", "/admin/payments/flagged", headers=bearer(make_user(role)))
        # Then they are refused
        assert response.status_code == 403, role
    assert call(client, "GET", "/admin/payments/flagged").status_code == 401
    # And an admin's malformed page is a clear 4xx
    bad = call(client, "GET", "/admin/payments/flagged?page=0", headers=bearer(make_user("admin")))
    assert bad.status_code in (400, 422) and body(bad)["success"] is False
