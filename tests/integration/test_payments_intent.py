"""POST /payments/intent: the amount comes from the database, the key from what is paid."""
# ruff: noqa: F811  (pytest fixtures imported from tests.payments_support)

from datetime import timedelta

from bson import ObjectId

from functions.core import config
from functions.core.db import get_db
from tests.appointments_support import body
from tests.factories import json_headers, make_user
from tests.payments_support import (  # noqa: F401  (fixtures)
    appointment,
    payment,
    scene,
    stripe_api,
    stripe_mock,
)

URL = "/api/v1/payments/intent"


def pay(client, who, kind, target_id):
    return client.http.post(URL, headers=json_headers(who), body=f'{{"kind":"{kind}","id":"{target_id}"}}'.encode())


def test_the_patient_gets_an_intent_for_the_doctors_fee(client, clock, stripe_api):
    # Given a doctor whose consultation costs 500.00 INR and a patient's appointment with them
    s = scene()
    appt_id = s["appt"]["_id"]
    # When the patient asks to pay for it
    response = pay(client, s["patient"], "appointment", appt_id)
    # Then Stripe was asked for exactly the doctor's fee (in paise), with the ids in the metadata,
    # and the answer says ₹500
    assert response.status_code == 201, response.body
    out = body(response)
    assert out["amount"] == 500 and out["currency"] == "INR"
    assert out["clientSecret"].startswith("pi_") and out["paymentIntentId"].startswith("pi_")
    [call] = stripe_api.to("/v1/payment_intents")
    assert call["params"]["amount"] == "50000" and call["params"]["currency"] == "inr"
    assert call["params"]["metadata[ref]"] == f"appointment:{appt_id}"
    assert call["params"]["metadata[payerId]"] == str(s["patient"]["_id"])
    assert call["idempotencyKey"] == f"pi:appointment:{appt_id}:50000:INR"
    # And the payment is recorded as awaiting payment
    assert payment(f"appointment:{appt_id}")["status"] == "requires_payment"


def test_asking_twice_sends_the_same_key_and_a_new_fee_a_new_one(client, clock, stripe_api):
    # Given a patient who asked for an intent
    s = scene()
    appt_id = s["appt"]["_id"]
    assert pay(client, s["patient"], "appointment", appt_id).status_code == 201
    # When they ask again, and again after the doctor changed the fee
    assert pay(client, s["patient"], "appointment", appt_id).status_code == 201
    get_db()["users"].update_one({"_id": s["doctor"]["_id"]}, {"$set": {"consultationFee": 70000}})
    response = pay(client, s["patient"], "appointment", appt_id)
    # Then the retry reused the key (Stripe gives back the same intent) and the new amount got its own
    keys = [c["idempotencyKey"] for c in stripe_api.to("/v1/payment_intents")]
    assert keys[0] == keys[1] != keys[2]
    assert body(response)["amount"] == 700
    assert payment(f"appointment:{appt_id}")["amount"] == 70000


def test_nobody_else_can_pay_or_probe_an_appointment(client, clock, stripe_api):
    # Given an appointment of one patient
    s = scene()
    appt_id = s["appt"]["_id"]
    # When another patient, the doctor, or anyone with a made-up id tries
    stranger = pay(client, make_user("patient"), "appointment", appt_id)
    doctor = pay(client, s["doctor"], "appointment", appt_id)
    unknown = pay(client, s["patient"], "appointment", ObjectId())
    malformed = pay(client, s["patient"], "appointment", "nope")
    # Then the stranger and the unknown ids see 404, the doctor's role is refused, Stripe is never called
    assert (stranger.status_code, unknown.status_code, malformed.status_code) == (404, 404, 404)
    assert doctor.status_code == 403
    assert stripe_api.calls == []


def test_bad_bodies_are_400(client, clock, stripe_api):
    # Given a patient
    who = make_user("patient")
    # When the kind is unknown or a field is extra
    for raw in (b'{"kind":"gift","id":"x"}', b'{"kind":"order","id":"x","amount":1}', b"[]", b"{"):
        response = client.http.post(URL, headers=json_headers(who), body=raw)
        # Then the request is refused as malformed
        assert response.status_code == 400, raw


def test_what_cannot_be_paid_for_is_refused(client, clock, stripe_api):
    # Given a cancelled appointment, one already over, and one with a free doctor
    s = scene()
    cancelled = appointment(s["patient"], s["doctor"], status="cancelled")
    past = appointment(s["patient"], s["doctor"], start_in=timedelta(hours=-2))
    free = appointment(s["patient"], make_user("doctor", consultationFee=0))
    # When the patient tries to pay each
    answers = [pay(client, s["patient"], "appointment", a["_id"]) for a in (cancelled, past, free)]
    # Then each is refused with the reason, and nothing reaches Stripe
    assert [(r.status_code, body(r)["code"]) for r in answers] == [
        (409, "NOT_PAYABLE"), (409, "NOT_PAYABLE"), (422, "NOTHING_TO_PAY")]
    assert stripe_api.calls == []


def test_a_paid_appointment_is_not_paid_twice(client, clock, stripe_api):
    # Given an appointment whose payment succeeded
    s = scene()
    appt_id = s["appt"]["_id"]
    assert pay(client, s["patient"], "appointment", appt_id).status_code == 201
    get_db()["payments"].update_one({"_id": f"appointment:{appt_id}"}, {"$set": {"status": "succeeded"}})
    # When the patient asks for another intent
    response = pay(client, s["patient"], "appointment", appt_id)
    # Then it is a conflict
    assert response.status_code == 409 and body(response)["code"] == "ALREADY_PAID"


def test_without_stripe_configured_it_is_503(client, clock, monkeypatch):
    # Given no STRIPE_SECRET_KEY
    monkeypatch.delenv("STRIPE_SECRET_KEY", raising=False)
    config.reset_settings()
    s = scene()
    # When the patient asks to pay
    response = pay(client, s["patient"], "appointment", s["appt"]["_id"])
    # Then the dependency is reported unavailable
    assert response.status_code == 503 and body(response)["code"] == "PAYMENTS_NOT_CONFIGURED"


def test_an_order_is_404_until_the_pharmacy_says_it_is_payable(client, clock, stripe_api):
    # Given an id that is no payable order of this patient
    who = make_user("patient")
    # When the patient tries to pay it
    response = pay(client, who, "order", ObjectId())
    # Then it is not found
    assert response.status_code == 404
