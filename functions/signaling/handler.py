"""Lambda entry point serving only the signaling routes (per-route split, see infra/)."""

from functions.core.app_factory import create_app
from functions.signaling.routes import bp

app = create_app("cureconnect-signaling", [bp])
