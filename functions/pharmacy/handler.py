"""Lambda entry point serving only the pharmacy routes (per-route split, see infra/)."""

from functions.core.app_factory import create_app
from functions.pharmacy.routes import bp

app = create_app("cureconnect-pharmacy", [bp])
