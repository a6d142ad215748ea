"""Lambda entry point serving only the auth routes (per-route split, see infra/)."""

from functions.auth.routes import bp
from functions.core.app_factory import create_app

app = create_app("cureconnect-auth", [bp])
