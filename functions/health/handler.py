"""Lambda entry point serving only the health route."""

from functions.core.app_factory import create_app
from functions.health.routes import bp

app = create_app("cureconnect-health", [bp])
