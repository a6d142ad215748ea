"""Lambda entry point serving only the API description routes (per-route split, see infra/)."""

from functions.core.app_factory import create_app
from functions.docs.routes import bp

app = create_app("cureconnect-docs", [bp])
