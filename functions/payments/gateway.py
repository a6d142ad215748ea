"""The Stripe adapter: the only module that imports `stripe`, and only when a call is made.

Tests (and `make run`) swap the transport, not the SDK: `http_client` is a factory returning a
`stripe.HTTPClient` (the suite records every request through one and forwards it to
stripe-mock), and `STRIPE_API_BASE` points the SDK at another API host.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from functions.core import clock
from functions.core.config import get_settings
from functions.core.errors import Code, ServiceUnavailable
from functions.core.observability import logger

# Factory of the SDK's transport (None = the SDK's default HTTP client).
http_client: Callable[[], Any] | None = None


class BadSignature(Exception):
    """The webhook body does not carry a valid, fresh `Stripe-Signature`."""


@dataclass(frozen=True)
class Intent:
    id: str
    client_secret: str
    amount: int
    currency: str
    status: str


@dataclass(frozen=True)
class Refund:
    id: str
    status: str  # Stripe's: pending, requires_action, succeeded, failed, canceled
    amount: int

    @property
    def succeeded(self) -> bool:
        return self.status == "succeeded"


def _client() -> Any:
    settings = get_settings()
    if not settings.stripe_secret_key:
        raise ServiceUnavailable("The payment provider is not configured", code=Code.PAYMENTS_NOT_CONFIGURED)
    import stripe

    options: dict[str, Any] = {"max_network_retries": 2}
    if http_client is not None:
        options["http_client"] = http_client()
    if settings.stripe_api_base:
        options["base_addresses"] = {"api": settings.stripe_api_base}
    return stripe.StripeClient(settings.stripe_secret_key, **options)


def _unavailable(exc: Exception, what: str) -> ServiceUnavailable:
    # The SDK's message may echo request parameters: log the class and Stripe's code only.
    logger.warning("stripe call failed", extra={"call": what, "error": type(exc).__name__,
                                                "stripeCode": getattr(exc, "code", None)})
    return ServiceUnavailable("The payment provider is unavailable; try again", code=Code.PAYMENT_PROVIDER_ERROR)


def create_intent(amount: int, currency: str, metadata: Mapping[str, str], idempotency_key: str,
                  description: str) -> Intent:
    """A PaymentIntent for card payments; the same key always gives back the same intent."""
    import stripe

    try:
        pi = _client().v1.payment_intents.create(
            params={"amount": amount, "currency": currency.lower(), "metadata": dict(metadata),
                    "description": description, "automatic_payment_methods": {"enabled": True}},
            options={"idempotency_key": idempotency_key})
    except stripe.StripeError as exc:
        raise _unavailable(exc, "payment_intents.create") from None
    return Intent(str(pi.id), str(pi.client_secret), int(pi.amount), str(pi.currency).upper(), str(pi.status))


def refund(intent_id: str, amount: int, idempotency_key: str, metadata: Mapping[str, str]) -> Refund:
    """Refund `amount` of what the intent took; retrying with the same key refunds once."""
    import stripe

    try:
        re_ = _client().v1.refunds.create(
            params={"payment_intent": intent_id, "amount": amount, "metadata": dict(metadata),
                    "reason": "requested_by_customer"},
            options={"idempotency_key": idempotency_key})
    except stripe.StripeError as exc:
        raise _unavailable(exc, "refunds.create") from None
    return Refund(str(re_.id), str(re_.status), int(re_.amount))


# seconds a Stripe-Signature's `t=` may lie before or after our clock (issue 21: a signature dated
# 10 minutes ahead was accepted; the SDK's own tolerance refuses only old ones, against time.time())
SIGNATURE_SKEW = 300


def signed_at(signature: str) -> int | None:
    """The one `t=` of a Stripe-Signature header (None if absent, repeated or not a number: the
    SDK reads the first, so a second one could date the header apart from what it signs)."""
    stamps = [part.partition("=")[2] for part in signature.split(",") if part.partition("=")[0] == "t"]
    return int(stamps[0]) if len(stamps) == 1 and stamps[0].isascii() and stamps[0].isdigit() else None


def verify_event(payload: bytes, signature: str | None) -> dict[str, Any]:
    """The event as a plain dict, if `signature` signs exactly these bytes with the webhook
    secret and is dated within SIGNATURE_SKEW seconds of `core.clock`, before or after (a replayed
    or post-dated header is refused); BadSignature otherwise. The date is judged here, not by the
    SDK's tolerance (past only, and against the system clock)."""
    if not signature:  # judged before the configuration: a request without one is simply bad
        raise BadSignature("missing signature")
    secret = get_settings().stripe_webhook_secret
    if not secret:
        raise ServiceUnavailable("The payment webhook is not configured", code=Code.PAYMENTS_NOT_CONFIGURED)
    stamp = signed_at(signature)
    if stamp is None or abs(stamp - clock.now().timestamp()) > SIGNATURE_SKEW:
        raise BadSignature("signature not dated now")
    import stripe

    try:
        # tolerance=0: the SDK's own date check is off; the one above is the rule
        event = stripe.Webhook.construct_event(payload.decode("utf-8"), signature, secret, tolerance=0)
    except (stripe.SignatureVerificationError, ValueError, UnicodeDecodeError):
        raise BadSignature("invalid signature") from None
    return dict(event.to_dict())
