"""Lambda entry point serving only the appointments routes (per-route split, see infra/)."""

from functions.appointments.routes import bp
from functions.core.app_factory import create_app

app = create_app("cureconnect-appointments", [bp])
