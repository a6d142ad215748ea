"""Request and response examples of creating a payment intent, for the OpenAPI document
(`@describe(examples=...)`); tests/integration/test_answers_payments.py validates them against
the route's documented models."""

from __future__ import annotations

from typing import Any

INTENT: dict[str, dict[str, Any]] = {
    "an online order": {
        "summary": "Pay for an online order: the amount comes from the order, never from the client",
        "request": {"kind": "order", "id": "66f0c0ffee0000000000d002"},
        "response": {"success": True, "clientSecret": "pi_3Pexample_secret_abc123",
                     "paymentIntentId": "pi_3Pexample", "amount": 65, "currency": "INR"},
    },
    "a consultation": {
        "summary": "Pay a doctor's fee for a booked appointment",
        "request": {"kind": "appointment", "id": "66f0c0ffee0000000000f001"},
        "response": {"success": True, "clientSecret": "pi_3Qexample_secret_def456",
                     "paymentIntentId": "pi_3Qexample", "amount": 500, "currency": "INR"},
    },
}
