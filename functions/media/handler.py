"""Lambda entry point serving only the uploads routes (per-route split, see infra/)."""

from functions.core.app_factory import create_app
from functions.media.routes import bp

app = create_app("cureconnect-media", [bp])
