"""POST /payments/webhook: signed raw bodies only, each event once, statuses only forward."""
# ruff: noqa: F811  (pytest fixtures imported from tests.payments_support)

import json
import threading
from datetime import UTC, datetime

import pytest

from functions.core import config
from functions.core.db import get_db
from tests.appointments_support import body
from tests.factories import json_headers, make_user
from tests.payments_support import (  # noqa: F401  (fixtures)
    event,
    intent_object,
    payment,
    post_webhook,
    scene,
    sign,
    stripe_api,
    stripe_mock,
)


def intent_for(client, s):
    appt_id = s["appt"]["_id"]
    response = client.http.post("/api/v1/payments/intent", headers=json_headers(s["patient"]),
                                body=json.dumps({"kind": "appointment", "id": str(appt_id)}).encode())
    assert response.status_code == 201, response.body
    return body(response)["paymentIntentId"], f"appointment:{appt_id}"


def test_a_signed_success_marks_the_payment_paid(client, clock, stripe_api):
    # Given an intent for an appointment
    s = scene()
    intent_id, ref = intent_for(client, s)
    # When Stripe reports its success with a valid signature
    response = post_webhook(client, event("payment_intent.succeeded", intent_object(intent_id, ref)))
    # Then it is acknowledged and the payment is paid
    assert response.status_code == 200 and body(response)["handled"] is True
    paid = payment(ref)
    assert paid["status"] == "succeeded" and paid["amountReceived"] == 50000


def test_a_tampered_body_a_stale_or_missing_signature_is_400(client, clock, stripe_api):
    # Given an intent and a signed success event
    s = scene()
    intent_id, ref = intent_for(client, s)
    raw = json.dumps(event("payment_intent.succeeded", intent_object(intent_id, ref))).encode()
    good = sign(raw)
    tampered = raw.replace(b"50000", b"5")
    stale = sign(raw, timestamp=int(clock().timestamp()) - 3600)
    # When the body is changed after signing, the signature is an hour old, foreign or absent
    answers = [post_webhook(client, tampered, good), post_webhook(client, raw, stale),
               post_webhook(client, raw, sign(raw, secret="whsec_other")), post_webhook(client, raw, None)]
    # Then each is refused and nothing changed
    assert [r.status_code for r in answers] == [400, 400, 400, 400]
    assert {body(r)["code"] for r in answers} == {"BAD_SIGNATURE"}
    assert payment(ref)["status"] == "requires_payment"
    assert get_db()["stripe_events"].count_documents({}) == 0


@pytest.mark.parametrize("seconds", [600, -600, 301, -301])
def test_a_signature_dated_more_than_5_minutes_away_either_way_is_refused(client, clock, stripe_api, seconds):
    # Given an intent and its success event, correctly signed but dated `seconds` from now
    # (issue 21 item 11: one dated 10 minutes ahead was accepted), our clock at the system's time
    clock.set(datetime.now(UTC))
    s = scene()
    intent_id, ref = intent_for(client, s)
    raw = json.dumps(event("payment_intent.succeeded", intent_object(intent_id, ref))).encode()
    header = sign(raw, timestamp=int(clock().timestamp()) + seconds)
    # When Stripe's webhook receives it
    response = post_webhook(client, raw, header)
    # Then it is refused and the payment is not paid
    assert response.status_code == 400 and body(response)["code"] == "BAD_SIGNATURE"
    assert payment(ref)["status"] == "requires_payment"


@pytest.mark.parametrize("seconds", [240, -240])
def test_a_signature_dated_within_5_minutes_either_way_is_accepted(client, clock, stripe_api, seconds):
    # Given a success event signed 4 minutes before or after our clock (clocks drift a little)
    clock.set(datetime.now(UTC))
    s = scene()
    intent_id, ref = intent_for(client, s)
    raw = json.dumps(event("payment_intent.succeeded", intent_object(intent_id, ref))).encode()
    # When it arrives
    response = post_webhook(client, raw, sign(raw, timestamp=int(clock().timestamp()) + seconds))
    # Then the payment is paid
    assert response.status_code == 200 and payment(ref)["status"] == "succeeded"


def test_a_header_with_two_dates_is_refused(client, clock, stripe_api):
    # Given a signature made an hour ago, with a fresh date put in front of it
    s = scene()
    intent_id, ref = intent_for(client, s)
    raw = json.dumps(event("payment_intent.succeeded", intent_object(intent_id, ref))).encode()
    old = sign(raw, timestamp=int(clock().timestamp()) - 3600)
    # When it arrives
    response = post_webhook(client, raw, f"t={int(clock().timestamp())},{old}")
    # Then it is refused
    assert response.status_code == 400 and payment(ref)["status"] == "requires_payment"


@pytest.mark.parametrize(("received", "currency"), [(1, "inr"), (49999, "inr"), (50001, "inr"), (50000, "usd"),
                                                    (None, "inr")])
def test_a_success_for_another_amount_or_currency_is_flagged_not_paid(client, clock, stripe_api, received,
                                                                      currency):
    # Given a 500.00 INR intent for an appointment (issue 21 item 11: amount_received 1 marked it paid)
    s = scene()
    intent_id, ref = intent_for(client, s)
    obj = {**intent_object(intent_id, ref), "amount_received": received, "currency": currency}
    # When Stripe reports a success that took another amount or currency
    response = post_webhook(client, event("payment_intent.succeeded", obj))
    # Then it is acknowledged, the payment is not paid but flagged, and the flag is audited
    assert response.status_code == 200
    flagged = payment(ref)
    assert flagged["status"] == "requires_payment" and "paidAt" not in flagged
    assert flagged["flagged"]["reason"] == "amount_or_currency_mismatch"
    assert flagged["flagged"]["intentId"] == intent_id
    audited = get_db()["audit_log"].find_one({"action": "payment.flagged", "resourceId": ref})
    assert audited is not None and audited["subjectId"] == s["patient"]["_id"]
    # and the appointment was not told it was paid
    appt = get_db()["appointments"].find_one({"_id": s["appt"]["_id"]})
    assert (appt.get("payment") or {}).get("status") != "paid"
    assert body(client.http.get(f"/api/v1/payments/appointment/{s['appt']['_id']}",
                                headers=json_headers(s["patient"])))["payment"]["status"] == "requires_payment"


def test_a_replayed_event_is_acknowledged_and_ignored(client, clock, stripe_api):
    # Given a success that was handled, then a refund
    s = scene()
    intent_id, ref = intent_for(client, s)
    success = event("payment_intent.succeeded", intent_object(intent_id, ref))
    assert post_webhook(client, success).status_code == 200
    refunded = {"id": "ch_1", "object": "charge", "payment_intent": intent_id, "amount": 50000,
                "amount_refunded": 50000}
    assert post_webhook(client, event("charge.refunded", refunded)).status_code == 200
    # When the success event is delivered again (freshly signed, same event id)
    response = post_webhook(client, success)
    # Then it is acknowledged as a duplicate and the refund stands
    assert response.status_code == 200 and body(response)["duplicate"] is True
    assert payment(ref)["status"] == "refunded"
    assert [h["status"] for h in payment(ref)["history"]] == ["succeeded", "refunded"]


def test_concurrent_deliveries_of_one_event_are_handled_once(client, clock, stripe_api):
    # Given an intent and one success event
    s = scene()
    intent_id, ref = intent_for(client, s)
    raw = json.dumps(event("payment_intent.succeeded", intent_object(intent_id, ref))).encode()
    header = sign(raw)
    barrier, answers = threading.Barrier(8), []

    def deliver():
        barrier.wait()
        answers.append(body(post_webhook(client, raw, header)))

    # When eight deliveries of it race
    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Then one handled it; the rest were told it is a duplicate, or (while it was being handled)
    # to deliver it again later; the payment moved once
    assert sum(1 for a in answers if a.get("handled")) == 1
    assert sum(1 for a in answers if a.get("duplicate") or a.get("code") == "REQUEST_IN_PROGRESS") == 7
    assert len(payment(ref)["history"]) == 1
    # And Stripe's later retry of it is a duplicate
    assert body(post_webhook(client, raw, sign(raw)))["duplicate"] is True


def test_a_late_failure_does_not_undo_a_success(client, clock, stripe_api):
    # Given a paid intent
    s = scene()
    intent_id, ref = intent_for(client, s)
    assert post_webhook(client, event("payment_intent.succeeded", intent_object(intent_id, ref))).status_code == 200
    # When an earlier failure and a cancellation arrive afterwards
    for kind in ("payment_intent.payment_failed", "payment_intent.canceled"):
        late = post_webhook(client, event(kind, intent_object(intent_id, ref, status="requires_payment_method")))
        assert late.status_code == 200 and body(late)["handled"] is False
    # Then the payment is still paid
    assert payment(ref)["status"] == "succeeded"


def test_a_failure_then_a_success_ends_paid(client, clock, stripe_api):
    # Given an intent whose first card was declined
    s = scene()
    intent_id, ref = intent_for(client, s)
    post_webhook(client, event("payment_intent.payment_failed", intent_object(intent_id, ref, status="failed")))
    assert payment(ref)["status"] == "failed"
    # When the second attempt succeeds
    post_webhook(client, event("payment_intent.succeeded", intent_object(intent_id, ref)))
    # Then the payment is paid
    assert payment(ref)["status"] == "succeeded"


def test_events_of_other_types_or_unknown_intents_are_acknowledged(client, clock, stripe_api):
    # Given nothing to match
    # When Stripe sends an unrelated event and a success for an intent we never made
    other = post_webhook(client, event("customer.created", {"id": "cus_1", "object": "customer"}))
    stray = post_webhook(client, event("payment_intent.succeeded", intent_object("pi_unknown", "appointment:x")))
    # Then both are acknowledged (Stripe stops retrying) and nothing is recorded
    assert (other.status_code, stray.status_code) == (200, 200)
    assert body(stray)["handled"] is False
    assert get_db()["payments"].count_documents({}) == 0


def test_without_a_webhook_secret_it_is_503(client, clock, monkeypatch):
    # Given no STRIPE_WEBHOOK_SECRET
    monkeypatch.delenv("STRIPE_WEBHOOK_SECRET", raising=False)
    config.reset_settings()
    # When an event arrives
    response = post_webhook(client, event("payment_intent.succeeded", intent_object("pi_1", "x")))
    # Then it is refused as a missing dependency (Stripe retries later)
    assert response.status_code == 503


def test_the_payer_and_admins_can_read_the_payment_status(client, clock, stripe_api):
    # Given a paid appointment
    s = scene()
    intent_id, ref = intent_for(client, s)
    post_webhook(client, event("payment_intent.succeeded", intent_object(intent_id, ref)))
    path = f"/api/v1/payments/appointment/{s['appt']['_id']}"
    # When the payer, an admin, another patient and the doctor read it, and a made-up kind is asked for
    answers = {who: client.http.get(path, headers=json_headers(user)) for who, user in (
        ("payer", s["patient"]), ("admin", make_user("admin")), ("stranger", make_user("patient")),
        ("doctor", s["doctor"]))}
    odd = client.http.get(f"/api/v1/payments/gift/{s['appt']['_id']}", headers=json_headers(s["patient"]))
    # Then the payer and the admin see it paid; the others learn nothing
    assert body(answers["payer"])["payment"]["status"] == "succeeded"
    assert body(answers["payer"])["payment"]["amount"] == 500  # the ₹500 fee, in rupees
    assert body(answers["payer"])["payment"]["refundedAmount"] is None
    assert body(answers["payer"])["payment"]["paymentIntentId"] == intent_id
    assert answers["admin"].status_code == 200
    assert (answers["stranger"].status_code, answers["doctor"].status_code, odd.status_code) == (404, 403, 404)


def test_a_delivery_that_failed_half_way_is_finished_by_stripes_retry(client, clock, stripe_api, monkeypatch):
    # Given an intent, and the owner of the appointment failing once when told of the payment
    from functions.payments import targets

    s = scene()
    intent_id, ref = intent_for(client, s)
    told, real = [], targets.record

    def flaky(kind, target, status, intent):
        told.append(status)
        if len(told) == 1:
            raise RuntimeError("database hiccup")
        return real(kind, target, status, intent)

    monkeypatch.setattr(targets, "record", flaky)
    success = event("payment_intent.succeeded", intent_object(intent_id, ref))
    # When the first delivery fails after the payment was marked, and Stripe retries the same event
    first = post_webhook(client, success)
    retry = post_webhook(client, success)
    # Then the first answers 500 (so Stripe retries), the retry tells the owner, and the payment is paid once
    assert first.status_code == 500 and retry.status_code == 200 and body(retry)["handled"] is True
    assert told == ["paid", "paid"] and payment(ref)["status"] == "succeeded"
    assert len(payment(ref)["history"]) == 1


def test_concurrent_intent_requests_for_one_appointment_all_succeed(client, clock, stripe_api):
    # Given one appointment
    s = scene()
    barrier, codes = threading.Barrier(5), []

    def ask():
        barrier.wait()
        codes.append(client.http.post("/api/v1/payments/intent", headers=json_headers(s["patient"]), body=json.dumps(
            {"kind": "appointment", "id": str(s["appt"]["_id"])}).encode()).status_code)

    # When the patient's five tabs ask at once
    threads = [threading.Thread(target=ask) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Then each gets its intent (the same idempotency key went to Stripe) and one payment exists
    assert codes == [201] * 5
    assert {c["idempotencyKey"] for c in stripe_api.to("/v1/payment_intents")} == {
        f"pi:appointment:{s['appt']['_id']}:50000:INR"}
    assert get_db()["payments"].count_documents({}) == 1
