"""Refunds through the Refund API: in full, once, with idempotency keys; retried by the sweeper."""
# ruff: noqa: F811  (pytest fixtures imported from tests.payments_support)

from datetime import timedelta

from functions.core import clock as core_clock
from functions.core.db import get_db
from functions.payments import refunds, sweep
from tests.payments_support import (  # noqa: F401  (fixtures)
    appointment,
    event,
    intent_object,
    paid,
    payment,
    post_webhook,
    scene,
    stripe_api,
    stripe_mock,
)


def cancelled(appt, role, minutes_before_start):
    at = appt["start"] - timedelta(minutes=minutes_before_start)
    changes = {"status": "cancelled", "cancellation": {"role": role, "at": at, "by": appt[role if role != "admin"
                                                                                           else "doctor"]}}
    get_db()["appointments"].update_one({"_id": appt["_id"]}, {"$set": changes})
    return {**appt, **changes}


def test_a_doctors_cancellation_refunds_in_full_once(client, clock, stripe_api):
    # Given a paid appointment
    s = scene()
    ref = paid(client, s)
    # When the doctor cancels it (even an hour before) and the hook runs twice
    appt = cancelled(s["appt"], "doctor", 60)
    first, second = refunds.appointment_cancelled(appt), refunds.appointment_cancelled(appt)
    # Then one full refund was asked for, keyed by the payment and its intent
    assert (first, second) == ("refunded", None)
    [call] = stripe_api.to("/v1/refunds")
    record = payment(ref)
    assert call["params"]["amount"] == "50000" and call["params"]["payment_intent"] == record["intentId"]
    assert call["idempotencyKey"] == f"re:{ref}:{record['intentId']}"
    assert record["status"] == "refunded" and record["refundedAmount"] == 50000


def test_the_patient_is_refunded_only_before_the_cut_off(client, clock, stripe_api):
    # Given two paid appointments (cut-off: 120 minutes)
    s = scene()
    early_ref = paid(client, s)
    late_appt = appointment(s["patient"], s["doctor"])
    late_ref = paid(client, {**s, "appt": late_appt})
    # When the patient cancels one three hours ahead and (say, by an admin fix) the other an hour ahead
    early = refunds.appointment_cancelled(cancelled(s["appt"], "patient", 180))
    late = refunds.appointment_cancelled(cancelled(late_appt, "patient", 60))
    # Then only the early one is refunded
    assert (early, late) == ("refunded", None)
    assert payment(early_ref)["status"] == "refunded" and payment(late_ref)["status"] == "succeeded"


def test_no_refund_for_a_no_show_or_an_unpaid_appointment(client, clock, stripe_api):
    # Given a paid appointment the patient missed, and an unpaid cancelled one
    s = scene()
    ref = paid(client, s)
    get_db()["appointments"].update_one({"_id": s["appt"]["_id"]}, {"$set": {"status": "no_show"}})
    unpaid = cancelled(appointment(s["patient"], s["doctor"]), "doctor", 60)
    # When the refund policy runs for both
    results = (refunds.appointment_cancelled({**s["appt"], "status": "no_show"}),
               refunds.appointment_cancelled(unpaid))
    # Then nothing is refunded
    assert results == (None, None)
    assert stripe_api.to("/v1/refunds") == [] and payment(ref)["status"] == "succeeded"


def test_a_failed_refund_call_is_retried_by_the_sweeper_with_the_same_key(client, clock, stripe_api):
    # Given a paid appointment and Stripe down
    s = scene()
    ref = paid(client, s)
    stripe_api.fail = True
    # When the doctor cancels
    assert refunds.appointment_cancelled(cancelled(s["appt"], "doctor", 60)) == "refund_pending"
    # Then the refund waits; the sweeper leaves it alone for a few minutes, then retries once Stripe is back
    assert sweep.sweep(core_clock.now())["refundsRetried"] == 0
    stripe_api.fail = False
    clock.advance(minutes=6)
    assert sweep.sweep(core_clock.now())["refundsRetried"] == 1
    keys = {c["idempotencyKey"] for c in stripe_api.to("/v1/refunds")}
    assert len(keys) == 1 and payment(ref)["status"] == "refunded"


def test_a_payment_that_arrives_for_a_cancelled_appointment_is_refunded(client, clock, stripe_api, monkeypatch):
    # Given an intent, and the appointment owner saying it no longer wants the money
    from functions.payments import targets

    s = scene()
    ref = paid(client, s, succeed=False)
    monkeypatch.setattr(targets, "record", lambda kind, target, status, intent: status != "paid")
    # When the success arrives
    response = post_webhook(client, event("payment_intent.succeeded", intent_object(payment(ref)["intentId"], ref)))
    # Then the money goes back at once
    assert response.status_code == 200
    assert payment(ref)["status"] == "refunded" and len(stripe_api.to("/v1/refunds")) == 1



def test_the_sweeper_refunds_paid_appointments_cancelled_elsewhere(client, clock, stripe_api):
    # Given three paid appointments: one the doctor cancelled, one the patient cancelled too late, one still on
    s = scene()
    by_doctor = paid(client, s)
    late_appt, kept_appt = appointment(s["patient"], s["doctor"]), appointment(s["patient"], s["doctor"])
    late, kept = paid(client, {**s, "appt": late_appt}), paid(client, {**s, "appt": kept_appt})
    cancelled(s["appt"], "doctor", 60)
    cancelled(late_appt, "patient", 30)
    # When the platform's sweeper runs, twice
    from functions import registry

    first, second = registry.sweep(core_clock.now()), registry.sweep(core_clock.now())
    # Then only the doctor's cancellation is refunded, once
    assert (first["cancelledRefunded"], second["cancelledRefunded"]) == (1, 0)
    assert [payment(r)["status"] for r in (by_doctor, late, kept)] == ["refunded", "succeeded", "succeeded"]
    assert len(stripe_api.to("/v1/refunds")) == 1


def test_a_refund_whose_owner_cannot_be_told_stands_and_stripes_event_tells_it(client, clock, stripe_api):
    # Given a paid appointment the doctor cancelled, and its owner failing when told of the refund
    from pymongo.errors import AutoReconnect

    s = scene()
    ref = paid(client, s)
    appt = cancelled(s["appt"], "doctor", 60)

    def failing(*args):
        raise AutoReconnect("connection reset")

    # When the refund goes through
    status = refunds.appointment_cancelled(appt, failing)
    # Then the refund is recorded (no error after the write), once
    assert status == "refunded" and payment(ref)["status"] == "refunded"
    assert len(stripe_api.to("/v1/refunds")) == 1
    # And Stripe's charge.refunded event for it tells the appointment
    record = payment(ref)
    charge = {"id": "ch_1", "object": "charge", "payment_intent": record["intentId"], "amount": 50000,
              "amount_refunded": 50000}
    assert post_webhook(client, event("charge.refunded", charge)).status_code == 200
    assert get_db()["appointments"].find_one({"_id": appt["_id"]})["payment"]["status"] == "refunded"
