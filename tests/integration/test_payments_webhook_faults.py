"""Issue 19 §1, a payment webhook under database faults: for every command of a success event's
handling and both faults (refused before it applies, applied with its reply lost), the delivery
never answers 500, and Stripe's retry of the same event finishes it: the payment is paid once,
the appointment knows it, and a further delivery is a duplicate."""
# ruff: noqa: F811  (pytest fixtures imported from tests.payments_support)

from __future__ import annotations

import json

from functions.core.config import get_settings
from functions.core.db import get_db
from tests.appointments_support import body
from tests.factories import json_headers
from tests.faults import Fault, FaultPlan, count_steps, inject
from tests.payments_support import (  # noqa: F401  (fixtures)
    event,
    intent_object,
    payment,
    post_webhook,
    scene,
    stripe_api,
    stripe_mock,
)


def _intent(client):
    s = scene()
    appt_id = s["appt"]["_id"]
    response = client.http.post("/api/v1/payments/intent", headers=json_headers(s["patient"]),
                                body=json.dumps({"kind": "appointment", "id": str(appt_id)}).encode())
    assert response.status_code == 201, response.body
    return appt_id, body(response)["paymentIntentId"], f"appointment:{appt_id}"


def test_a_success_event_that_fails_at_any_step_is_finished_by_stripes_retry(client, clock, stripe_api):
    # Given the commands a clean delivery of a success event sends
    _, intent_id, ref = _intent(client)
    steps = count_steps(lambda: post_webhook(client, event("payment_intent.succeeded", intent_object(intent_id, ref))))
    assert steps[0] == "stripe_events.insert_one" and steps[-1] == "stripe_events.update_one"
    for k in range(1, len(steps) + 1):
        for fault in Fault:
            # Given an unpaid appointment with its intent, and Stripe's success event for it
            appt_id, intent_id, ref = _intent(client)
            success = event("payment_intent.succeeded", intent_object(intent_id, ref))
            # When the k-th command of its handling fails
            with inject(FaultPlan(fail_at=k, fault=fault)) as plan:
                first = post_webhook(client, success)
            assert plan.fired
            # Then Stripe is told to retry (or that it was handled), never with a 500
            assert first.status_code in (200, 409, 503), (k, fault, steps[k - 1], first.body)
            if first.status_code == 409:  # a claim left behind: taken over once it is old enough
                clock.advance(seconds=get_settings().repair_after_seconds + 1)
            # When Stripe delivers it again
            retry = post_webhook(client, success)
            # Then the retry finishes it (or is a duplicate of a delivery that did)
            assert retry.status_code == 200, (k, fault, steps[k - 1], retry.body)
            paid = payment(ref)
            assert paid["status"] == "succeeded", (k, fault, steps[k - 1])
            assert [h["status"] for h in paid["history"]] == ["succeeded"]
            appt = get_db()["appointments"].find_one({"_id": appt_id})
            assert (appt.get("payment") or {}).get("status") == "paid", (k, fault, steps[k - 1])
            # And a further delivery is acknowledged as a duplicate
            assert body(post_webhook(client, success)).get("duplicate") is True, (k, fault, steps[k - 1])
