"""MongoDB access for the prescriptions domain, and the indexes it relies on."""

from typing import Any

INDEXES: dict[str, list[Any]] = {}
