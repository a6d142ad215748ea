"""Appointments and payments together: the payment hold (REQUIRE_APPOINTMENT_PAYMENT), its
release by the sweeper, and refunds when a paid appointment is cancelled."""
# ruff: noqa: F811  (pytest fixtures imported from tests.payments_support)

import json

import pytest

from functions import registry
from functions.core import clock as core_clock
from functions.core import config
from functions.core.db import get_db
from tests.appointments_support import body, book, doctor, get, patient, put, schedules, sent_emails, tick
from tests.factories import json_headers
from tests.payments_support import (  # noqa: F401  (fixtures)
    event,
    intent_object,
    payment,
    post_webhook,
    stripe_api,
    stripe_mock,
)


@pytest.fixture
def hold_on(monkeypatch):
    monkeypatch.setenv("REQUIRE_APPOINTMENT_PAYMENT", "true")
    monkeypatch.setenv("PAYMENT_HOLD_MINUTES", "15")
    config.reset_settings()


def pay(client, who, appt_id):
    response = client.http.post("/api/v1/payments/intent", headers=json_headers(who),
                                body=json.dumps({"kind": "appointment", "id": appt_id}).encode())
    assert response.status_code == 201, response.body
    intent_id, ref = body(response)["paymentIntentId"], f"appointment:{appt_id}"
    assert post_webhook(client, event("payment_intent.succeeded", intent_object(intent_id, ref))).status_code == 200
    return ref


def appointment(appt_id):
    from bson import ObjectId

    return get_db()["appointments"].find_one({"_id": ObjectId(appt_id)})


def test_a_held_booking_is_announced_only_once_paid_and_then_confirmed(api, stripe_api, hold_on):
    # Given payment required, a doctor (who does not require confirmation: the default) and a patient
    doc, pat = doctor(), patient()
    # When the patient books
    booked = book(api, pat, doc)
    # Then the slot is held unpaid: nobody is told yet, no reminder is armed, the slot is not offered
    assert booked.status_code == 201, booked.body
    appt_id = body(booked)["appointment"]["_id"]
    assert body(booked)["appointment"]["status"] == "pending_payment"
    assert sent_emails() == [] and schedules() == {}
    slots = body(get(api, pat, f"/appointment/slots/{doc['_id']}/2026-03-03"))["availableSlots"]
    assert "09:00" not in slots
    # And the doctor cannot confirm an unpaid hold
    assert put(api, doc, f"/appointment/{appt_id}/confirm").status_code == 409
    # When the patient pays
    pay(api, pat, appt_id)
    # Then the appointment is confirmed, marked paid, both parties are told once that it is
    # confirmed, and the reminders are armed
    now = appointment(appt_id)
    assert now["status"] == "confirmed" and now["payment"]["status"] == "paid"
    assert [h["status"] for h in now["statusHistory"]] == ["pending_payment", "confirmed"]
    mails = sent_emails()
    assert len(mails) == 2 and all(m.body.count("confirmed") == 1 and "awaits" not in m.body for m in mails)
    assert set(schedules()) == {f"appt-{appt_id}-15m"}


def test_a_paid_hold_of_a_doctor_who_requires_confirmation_waits_for_the_doctor(api, stripe_api, hold_on):
    # Given payment required and a doctor who confirms bookings
    doc, pat = doctor(availability={"requiresConfirmation": True}), patient()
    appt_id = body(book(api, pat, doc))["appointment"]["_id"]
    # When the patient pays
    pay(api, pat, appt_id)
    # Then it is pending: the patient hears it awaits the doctor, the doctor gets a request
    assert appointment(appt_id)["status"] == "pending"
    assert sorted("awaits the doctor's confirmation" in m.body for m in sent_emails()) == [False, True]
    # And the doctor's confirmation (a moment later) confirms it
    tick()
    assert put(api, doc, f"/appointment/{appt_id}/confirm").status_code == 200
    assert appointment(appt_id)["status"] == "confirmed"


def test_a_hold_booked_before_the_setting_existed_is_confirmed_when_paid(api, stripe_api, hold_on):
    # Given a hold as bookings made before this change left it: no `requiresConfirmation` on it
    doc, pat = doctor(), patient()
    appt_id = body(book(api, pat, doc))["appointment"]["_id"]
    get_db()["appointments"].update_one({"_id": appointment(appt_id)["_id"]}, {"$unset": {"requiresConfirmation": ""}})
    # When it is paid
    pay(api, pat, appt_id)
    # Then it counts as booked with a doctor who confirms nothing (none could, then)
    assert appointment(appt_id)["status"] == "confirmed"


def test_an_unpaid_hold_is_released_and_the_slot_offered_again(api, stripe_api, hold_on, clock):
    # Given an unpaid hold
    doc, pat, other = doctor(), patient(), patient()
    appt_id = body(book(api, pat, doc))["appointment"]["_id"]
    # When its 15 minutes run out and the sweeper runs
    clock.advance(minutes=16)
    result = registry.sweep(core_clock.now())
    # Then it is cancelled by the system, the patient is told, and someone else can book the slot
    assert result["expiredHolds"] == 1
    released = appointment(appt_id)
    assert released["status"] == "cancelled" and released["cancellation"]["role"] == "system"
    assert len(sent_emails()) == 1
    assert book(api, other, doc).status_code == 201


def test_money_that_arrives_after_the_hold_ran_out_goes_back(api, stripe_api, hold_on, clock):
    # Given an intent for a hold that then ran out and was released
    doc, pat = doctor(), patient()
    appt_id = body(book(api, pat, doc))["appointment"]["_id"]
    response = api.http.post("/api/v1/payments/intent", headers=json_headers(pat),
                             body=json.dumps({"kind": "appointment", "id": appt_id}).encode())
    intent_id, ref = body(response)["paymentIntentId"], f"appointment:{appt_id}"
    clock.advance(minutes=16)
    registry.sweep(core_clock.now())
    # When the payment succeeds anyway
    post_webhook(api, event("payment_intent.succeeded", intent_object(intent_id, ref)))
    # Then it is refunded in full and the appointment stays cancelled
    assert payment(ref)["status"] == "refunded" and len(stripe_api.to("/v1/refunds")) == 1
    assert appointment(appt_id)["status"] == "cancelled"


def test_a_paid_appointment_the_doctor_cancels_is_refunded_at_once(api, stripe_api):
    # Given a booked and paid appointment (no hold required)
    doc, pat = doctor(), patient()
    appt_id = body(book(api, pat, doc))["appointment"]["_id"]
    ref = pay(api, pat, appt_id)
    assert appointment(appt_id)["payment"]["status"] == "paid"
    # When the doctor cancels it
    assert put(api, doc, f"/appointment/{appt_id}/cancel", {"reason": "Called away"}).status_code == 200
    # Then the refund is asked for right away (not at the next sweep) and recorded on both sides
    assert len(stripe_api.to("/v1/refunds")) == 1
    assert payment(ref)["status"] == "refunded"
    assert appointment(appt_id)["payment"]["status"] == "refunded"


def test_a_patient_who_cancels_before_the_cut_off_is_refunded(api, stripe_api):
    # Given a paid appointment tomorrow 09:00 IST (the cut-off is 2 hours before)
    doc, pat = doctor(), patient()
    appt_id = body(book(api, pat, doc))["appointment"]["_id"]
    ref = pay(api, pat, appt_id)
    # When the patient cancels today
    assert put(api, pat, f"/appointment/{appt_id}/cancel", {"reason": "Feeling better"}).status_code == 200
    # Then they get their money back
    assert payment(ref)["status"] == "refunded"
