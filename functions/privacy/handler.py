"""Lambda entry point serving only the privacy domain's routes (a user's own data)."""

from functions.core.app_factory import create_app
from functions.privacy.routes import bp

app = create_app("cureconnect-privacy", [bp])
