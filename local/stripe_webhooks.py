"""Stripe's webhooks under `make run`: what `stripe trigger` does for a developer with real Stripe.

stripe-mock answers the API but is stateless and never sends webhooks, so a paid appointment or
order could never be completed locally. This module posts correctly signed events (the
`Stripe-Signature` scheme: HMAC-SHA256 of `<timestamp>.<body>` with the webhook secret) to the
API's `/api/v1/payments/webhook`, built from the payment the API recorded when the payer asked
for a PaymentIntent, with `metadata.ref` naming the appointment or order:

    python -m local.stripe_webhooks pay appointment <id>     # confirm at stripe-mock with a test
                                                             # card, then payment_intent.succeeded
    python -m local.stripe_webhooks payment_intent.succeeded order <id>
    python -m local.stripe_webhooks payment_intent.payment_failed order <id>
    python -m local.stripe_webhooks charge.refunded order <id>

The same from a page: http://127.0.0.1:8002/stripe/ (payments waiting and paid, one button per
event). Not an API route, so no stage's OpenAPI document shows it. It reads the running
instance's settings from the environment, else from its run.json (local/instance.py).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import secrets
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from local import instance
from local.site import Reply, Request, as_json, esc, page

PAY = "pay"
EVENTS = ("payment_intent.succeeded", "payment_intent.payment_failed", "charge.refunded")
KINDS = ("appointment", "order")
TEST_CARD = "pm_card_visa"


class Refused(Exception):
    """The event cannot be built or sent (no such payment, Stripe is not local, ...)."""


@dataclass(frozen=True)
class Settings:
    api: str  # the API's base URL, e.g. http://127.0.0.1:8000
    webhook_secret: str
    stripe_api_base: str  # stripe-mock's URL ("" with real Stripe)
    secret_key: str

    @classmethod
    def load(cls) -> Settings:
        env = os.environ
        if env.get("STRIPE_WEBHOOK_SECRET") and env.get("LOCAL_API_URL"):
            return cls(env["LOCAL_API_URL"], env["STRIPE_WEBHOOK_SECRET"], env.get("STRIPE_API_BASE", ""),
                       env.get("STRIPE_SECRET_KEY", ""))
        info = instance.read()
        for var, key in (("MONGODB_URI", "mongodbUri"), ("MONGODB_DB", "mongodbDb")):
            if info.get(key):
                os.environ.setdefault(var, str(info[key]))
        if not info.get("stripeWebhookSecret"):
            raise Refused("this `make run` has no STRIPE_WEBHOOK_SECRET")
        return cls(str(info["api"]), str(info["stripeWebhookSecret"]), str(info.get("stripeApiBase") or ""),
                   str(info.get("stripeSecretKey") or ""))


def signature_header(payload: bytes, secret: str, at: int | None = None) -> str:
    """`Stripe-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "t.payload">`."""
    at = int(time.time()) if at is None else at
    mac = hmac.new(secret.encode(), f"{at}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={at},v1={mac}"


def parse_ref(kind: str, target_id: str | None = None) -> str:
    """`appointment <id>`, `order <id>` or one `kind:id` argument -> the payment's ref."""
    if target_id is None and ":" in kind:
        kind, target_id = kind.split(":", 1)
    if kind not in KINDS or not target_id or len(target_id) != 24:
        raise Refused("name an appointment or an order: `appointment <24-hex id>` or `order <24-hex id>`")
    return f"{kind}:{target_id}"


def payment_of(ref: str) -> dict[str, Any]:
    from functions.payments.stores import payments as store

    found = store.get(ref)
    if found is None:
        raise Refused(f"no payment for {ref}: the payer asks for one first (POST /api/v1/payments/intent)")
    return found


def event(event_type: str, payment: dict[str, Any]) -> dict[str, Any]:
    """A Stripe event of `event_type` about this payment, shaped as Stripe sends it."""
    intent_id, amount = str(payment["intentId"]), int(payment["amount"])
    currency = str(payment.get("currency") or "").lower()
    metadata = {"kind": str(payment.get("kind")), "id": str(payment.get("targetId")),
                "payerId": str(payment.get("payerId")), "ref": str(payment["_id"])}
    if event_type == "charge.refunded":
        obj: dict[str, Any] = {"id": "ch_local_" + secrets.token_hex(8), "object": "charge", "amount": amount,
                               "amount_refunded": int(payment.get("amountReceived") or amount), "currency": currency,
                               "payment_intent": intent_id, "refunded": True, "status": "succeeded",
                               "metadata": metadata}
    else:
        succeeded = event_type == "payment_intent.succeeded"
        obj = {"id": intent_id, "object": "payment_intent", "amount": amount, "currency": currency,
               "amount_received": amount if succeeded else 0, "metadata": metadata,
               "status": "succeeded" if succeeded else "requires_payment_method"}
        if not succeeded:
            obj["last_payment_error"] = {"code": "card_declined", "decline_code": "generic_decline",
                                         "message": "Your card was declined. (local test event)"}
    return {"id": "evt_local_" + secrets.token_hex(12), "object": "event", "api_version": "2024-06-20",
            "created": int(time.time()), "livemode": False, "type": event_type, "data": {"object": obj},
            "pending_webhooks": 1, "request": {"id": None, "idempotency_key": None}}


def confirm_at_stripe_mock(settings: Settings, payment: dict[str, Any]) -> str:
    """What Stripe.js does in the browser: confirm the PaymentIntent with a test card."""
    if not settings.stripe_api_base:
        raise Refused("paying needs stripe-mock: this API talks to real Stripe (pay with a test card in the "
                      "frontend, or send only the event)")
    import stripe

    client = stripe.StripeClient(settings.secret_key, base_addresses={"api": settings.stripe_api_base})
    try:
        confirmed = client.v1.payment_intents.confirm(str(payment["intentId"]), params={"payment_method": TEST_CARD})
    except stripe.StripeError as exc:
        raise Refused(f"stripe-mock refused the confirmation: {type(exc).__name__}") from None
    return str(confirmed.id)


def deliver(settings: Settings, body: dict[str, Any]) -> tuple[int, Any]:
    payload = json.dumps(body).encode()
    request = urllib.request.Request(  # noqa: S310 - the local API's own URL
        f"{settings.api}/api/v1/payments/webhook", data=payload, method="POST",
        headers={"Content-Type": "application/json", "Stripe-Signature": signature_header(payload,
                                                                                        settings.webhook_secret)})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
            return int(answer.status), json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def trigger(settings: Settings, action: str, ref: str) -> dict[str, Any]:
    """`pay` (confirm at stripe-mock, then payment_intent.succeeded) or one event type."""
    if action not in (PAY, *EVENTS):
        raise Refused(f"unknown event {action!r}: one of {', '.join((PAY, *EVENTS))}")
    payment = payment_of(ref)
    steps = []
    if action == PAY:
        steps.append(f"confirmed {confirm_at_stripe_mock(settings, payment)} at stripe-mock with {TEST_CARD}")
    sent = event("payment_intent.succeeded" if action == PAY else action, payment)
    status, answer = deliver(settings, sent)
    return {"ref": ref, "event": sent["type"], "eventId": sent["id"], "steps": steps, "status": status,
            "answer": answer}


# ---------------------------------------------------------------- the page


def stripe_page(load: Callable[[], Settings]) -> Callable[[Request], Reply]:
    def handle(request: Request) -> Reply:
        if request.method == "POST" and request.path.rstrip("/") == "/stripe/send":
            form = request.form()
            try:
                result = trigger(load(), form.get("event", ""), parse_ref(form.get("ref", "")))
            except (Refused, instance.NotRunning) as exc:
                return as_json(422, {"error": str(exc)}) if request.wants_json else page(
                    "Stripe events", f'<p class="dropped">{esc(exc)}</p><p><a href="/stripe/">Back</a></p>')
            if request.wants_json:
                return as_json(200, result)
            return page("Stripe events", _result(result))
        if request.method == "GET" and request.path.rstrip("/") == "/stripe":
            return page("Stripe events", _listing())
        return Reply(404, b"Not found\n", {"Content-Type": "text/plain"})

    return handle


def _button(ref: str, action: str, label: str) -> str:
    return (f'<form class="inline" method="post" action="/stripe/send"><input type="hidden" name="ref" '
            f'value="{esc(ref)}"><input type="hidden" name="event" value="{esc(action)}">'
            f"<button>{esc(label)}</button></form>")


def _listing() -> str:
    from functions.core import clock
    from functions.payments.status import REQUIRES_PAYMENT, SUCCEEDED
    from functions.payments.stores import payments as store

    try:
        now = clock.now()
        waiting, paid = store.stuck(REQUIRES_PAYMENT, now, 20), store.stuck(SUCCEEDED, now, 20)
    except Exception as exc:  # the page still offers the form
        waiting, paid = [], []
        note = f"<p class=dropped>Payments could not be read: {esc(type(exc).__name__)}</p>"
    else:
        note = ""
    rows = []
    for payment in waiting:
        ref = str(payment["_id"])
        rows.append(f"<tr><td>{esc(ref)}</td><td>{esc(payment.get('amount'))} {esc(payment.get('currency'))}</td>"
                    f"<td>waiting</td><td>{_button(ref, PAY, 'Pay with a test card')}"
                    f"{_button(ref, 'payment_intent.payment_failed', 'Decline')}</td></tr>")
    for payment in paid:
        ref = str(payment["_id"])
        rows.append(f"<tr><td>{esc(ref)}</td><td>{esc(payment.get('amount'))} {esc(payment.get('currency'))}</td>"
                    f"<td>paid</td><td>{_button(ref, 'charge.refunded', 'Refund (charge.refunded)')}</td></tr>")
    table = ("<table><tr><th>Payment</th><th>Amount (minor units)</th><th>Status</th><th>Send</th></tr>"
             + "".join(rows) + "</table>") if rows else "<p>No payment is waiting or paid.</p>"
    options = "".join(f'<option value="{e}">{e}</option>' for e in (PAY, *EVENTS))
    form = ('<h2>Any payment</h2><form method="post" action="/stripe/send"><input name="ref" size="40" '
            'placeholder="appointment:&lt;id&gt; or order:&lt;id&gt;" required><select name="event">'
            f"{options}</select><button>Send</button></form>")
    intro = ("<p class=muted>stripe-mock never sends webhooks: these buttons post correctly signed events to "
             "<code>/api/v1/payments/webhook</code>, as Stripe would after the payer pays. Same from a terminal: "
             "<code>.venv/bin/python -m local.stripe_webhooks pay appointment &lt;id&gt;</code>.</p>")
    return intro + note + table + form


def _result(result: dict[str, Any]) -> str:
    steps = "".join(f"<li>{esc(step)}</li>" for step in result["steps"])
    return (f"<p>{esc(result['event'])} for <b>{esc(result['ref'])}</b> ({esc(result['eventId'])})</p><ul>{steps}"
            f"<li>the API answered <b>{esc(result['status'])}</b></li></ul>"
            f"<pre>{esc(json.dumps(result['answer'], indent=1))}</pre><p><a href=\"/stripe/\">Back</a></p>")


# ---------------------------------------------------------------- the command


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.stripe_webhooks",
                                     description="Send a signed Stripe event about a payment to the local API.")
    parser.add_argument("event", choices=(PAY, *EVENTS))
    parser.add_argument("kind", help="appointment or order (or kind:id)")
    parser.add_argument("id", nargs="?", help="the appointment's or order's id")
    args = parser.parse_args(argv)
    try:
        result = trigger(Settings.load(), args.event, parse_ref(args.kind, args.id))
    except (Refused, instance.NotRunning) as exc:
        print(f"stripe_webhooks: {exc}", file=sys.stderr)
        return 2
    for step in result["steps"]:
        print(step)
    print(f"{result['event']} {result['eventId']} -> {result['status']} {json.dumps(result['answer'])}")
    return 0 if result["status"] == 200 else 1


if __name__ == "__main__":
    raise SystemExit(main())
