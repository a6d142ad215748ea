"""Lambda entry point serving only the emergency line routes (per-route split, see infra/)."""

from functions.core.app_factory import create_app
from functions.emergency.routes import bp

app = create_app("cureconnect-emergency", [bp])
