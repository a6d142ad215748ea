"""Liveness of the API and its database."""

from __future__ import annotations

from typing import Any

from functions.core.config import get_settings
from functions.core.db import get_client


def check() -> tuple[bool, dict[str, Any]]:
    import pymongo
    from pymongo.errors import PyMongoError

    settings = get_settings()
    try:
        with pymongo.timeout(settings.health_db_timeout_ms / 1000):
            get_client().admin.command("ping")
        db_state = "ok"
    except PyMongoError:
        db_state = "unavailable"
    return db_state == "ok", {"version": settings.version, "db": db_state}
