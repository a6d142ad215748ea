"""Lambda entry point serving only the appointments routes (per-route split, see infra/)."""

from functions.appointments.routes import bp
from functions.core.app_factory import create_app
from functions.payments import api as payments

payments.plug_refunds()  # a cancellation's refund (payments imports appointments, never the other way round)
app = create_app("cureconnect-appointments", [bp])
