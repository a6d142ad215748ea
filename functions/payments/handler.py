"""Lambda entry point serving only the payments routes (per-route split, see infra/)."""

from functions.core.app_factory import create_app
from functions.payments.routes import bp

app = create_app("cureconnect-payments", [bp])
