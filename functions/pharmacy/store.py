"""MongoDB access for the pharmacy domain, and the indexes it relies on."""

from typing import Any

INDEXES: dict[str, list[Any]] = {}
