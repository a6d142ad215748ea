"""The answer model of GET /health."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from functions.core.schemas import Answer


class HealthAnswer(Answer):
    """The API is up and its database answered (else a 503 `DB_UNAVAILABLE` with `db: "unavailable"`)."""

    version: str = Field(description="The deployed version (VERSION)")
    db: Literal["ok"]
