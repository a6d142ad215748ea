"""The container's MongoDB client is built with the capacity settings (README "Capacity"): one
application connection, none kept while idle, idle ones closed, a polling monitor."""

from __future__ import annotations

from typing import Any

import pytest


def test_the_client_takes_the_capacity_settings(db: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from functions.core import config
    from functions.core.db import close_client, get_client

    # Given the deployed defaults
    close_client()
    options = get_client().options
    assert (options.pool_options.max_pool_size, options.pool_options.min_pool_size) == (1, 0)
    assert options.pool_options.max_idle_time_seconds == 60
    assert options.server_monitoring_mode == "poll"
    # When an operator changes them, Then the next client follows
    monkeypatch.setenv("MONGODB_MAX_POOL_SIZE", "4")
    monkeypatch.setenv("MONGODB_SERVER_MONITORING_MODE", "stream")
    config.reset_settings()
    close_client()
    options = get_client().options
    assert options.pool_options.max_pool_size == 4
    assert options.server_monitoring_mode == "stream"
    close_client()


def test_an_unknown_monitoring_mode_is_refused_at_start() -> None:
    from functions.core.config import ConfigError, load_settings

    with pytest.raises(ConfigError, match="MONGODB_SERVER_MONITORING_MODE"):
        load_settings({"MONGODB_URI": "mongodb://x/", "JWT_SECRET": "s" * 32, "MONGODB_SERVER_MONITORING_MODE": "push"})
