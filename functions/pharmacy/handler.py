"""Lambda entry point serving only the pharmacy routes (per-route split, see infra/)."""

from functions.core.app_factory import create_app
from functions.payments import api as payments
from functions.pharmacy.routes import bp

payments.plug_refunds()  # a cancellation's refund (payments imports pharmacy, never the other way round)
app = create_app("cureconnect-pharmacy", [bp])
