"""Lambda entry point serving only the prescriptions routes (per-route split, see infra/)."""

from functions.core.app_factory import create_app
from functions.prescriptions.routes import bp

app = create_app("cureconnect-prescriptions", [bp])
