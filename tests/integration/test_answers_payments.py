"""The payments' answers are what the OpenAPI document says (issue 23): an intent, a payment's
status, Stripe's webhook, each answer validated against its route's documented schema
(`tests.documented`, unknown keys refused), and the examples of an intent validated the same way."""
# ruff: noqa: F811  (pytest fixtures imported from tests.payments_support)

from __future__ import annotations

from tests.documented import document, documented, validate
from tests.factories import make_user
from tests.http import call
from tests.payments_support import (  # noqa: F401  (fixtures)
    event,
    intent_object,
    post_webhook,
    scene,
    stripe_api,
    stripe_mock,
)


def test_paying_for_a_consultation_answers_what_the_document_says(client, clock, stripe_api):
    # Given a patient's appointment with a doctor who charges ₹500
    s = scene()
    appt_id = str(s["appt"]["_id"])
    # When the patient asks for an intent, Stripe reports the success (twice) and the patient reads it
    intent = call(client, "POST", "/payments/intent", as_=s["patient"], json={"kind": "appointment", "id": appt_id})
    started = documented(intent, "POST", "/payments/intent")
    success = event("payment_intent.succeeded", intent_object(started["paymentIntentId"], f"appointment:{appt_id}"))
    first = documented(post_webhook(client, success), "POST", "/payments/webhook")
    again = documented(post_webhook(client, success), "POST", "/payments/webhook")
    status = call(client, "GET", f"/payments/appointment/{appt_id}", as_=s["patient"])
    by_admin = call(client, "GET", f"/payments/appointment/{appt_id}", as_=make_user("admin"))
    # Then every answer validated, with the amounts in rupees
    assert intent.status_code == 201 and started["amount"] == 500
    assert first == {"success": True, "received": True, "handled": True}
    assert again == {"success": True, "received": True, "duplicate": True}
    payment = documented(status, "GET", f"/payments/appointment/{appt_id}")["payment"]
    assert payment["status"] == "succeeded" and payment["amount"] == 500 and payment["paidAt"]
    assert documented(by_admin, "GET", f"/payments/appointment/{appt_id}")["payment"] == payment


def test_refusals_are_documented_error_answers(client, clock, stripe_api):
    # Given a patient and someone else's appointment
    s = scene()
    # When another patient asks to pay for it, or reads its payment, or a webhook comes unsigned
    foreign = call(client, "POST", "/payments/intent", as_=make_user("patient"),
                   json={"kind": "appointment", "id": str(s["appt"]["_id"])})
    unknown = call(client, "GET", f"/payments/order/{'0' * 24}", as_=s["patient"])
    unsigned = post_webhook(client, event("payment_intent.succeeded", intent_object("pi_x", "order:x")), None)
    # Then each is the error envelope with a code its route documents
    assert foreign.status_code == 404 and documented(foreign, "POST", "/payments/intent")["code"] == "NOT_FOUND"
    assert documented(unknown, "GET", "/payments/order/x")["code"] == "NOT_FOUND"
    assert documented(unsigned, "POST", "/payments/webhook")["code"] == "BAD_SIGNATURE"


def test_the_examples_of_an_intent_are_valid_bodies_and_answers():
    # Given the document's examples of a payment intent
    operation = document()["paths"]["/api/v1/payments/intent"]["post"]
    answer = operation["responses"]["201"]["content"]["application/json"]
    request = operation["requestBody"]["content"]["application/json"]
    # Then each is what the route documents on its side
    assert len(answer["examples"]) == len(request["examples"]) == 2
    for name, example in answer["examples"].items():
        validate(answer["schema"], example["value"])
        validate(request["schema"], request["examples"][name]["value"])
