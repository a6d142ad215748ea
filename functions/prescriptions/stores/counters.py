"""`prescription_counters`: the day's prescription sequence, one counter document per day
(keyed by `_id` only, so it declares no index)."""

from __future__ import annotations

from functions.core import sequences
from functions.core.db import get_db

COUNTERS = "prescription_counters"


def next_sequence(day_key: str) -> int:
    """The next number of the day (`core.sequences`): the counter document `{_id: "rx:<yymmdd>"}`."""
    return sequences.next_sequence(get_db()[COUNTERS], f"rx:{day_key}")
