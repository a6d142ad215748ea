"""Lambda entry point serving only the analysis route (per-route split, see infra/)."""

from functions.analysis.routes import bp
from functions.core.app_factory import create_app

app = create_app("cureconnect-analysis", [bp])
