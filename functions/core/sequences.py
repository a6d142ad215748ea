"""Numbering: the next number of a sequence (a day's prescriptions, a day's orders), atomically,
with no gap filled twice and no number given twice, however many containers ask at once.

A sequence is a counter document `{_id: <key>, seq: n}` in the caller's own collection (the
caller owns it), created by the first `$inc` upsert. Two first upserts racing on a new key can
collide on `_id` (MongoDB documents this for upserts): the loser retries and then finds the
document. If the counter still cannot be read the request fails with 503, never a duplicate.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from functions.core.db import unless_duplicate
from functions.core.errors import ServiceUnavailable

if TYPE_CHECKING:
    from pymongo.collection import Collection

_TRIES = 3


def next_sequence(collection: Collection[dict[str, Any]], key: str) -> int:
    """The next number (1, 2, ...) of the sequence `key` kept in `collection`: one atomic
    `$inc` upsert (one round trip unless a first use races). Raises ServiceUnavailable."""
    from pymongo import ReturnDocument

    for _ in range(_TRIES):
        counter = None
        with unless_duplicate() as raced:
            counter = collection.find_one_and_update({"_id": key}, {"$inc": {"seq": 1}}, upsert=True,
                                                     return_document=ReturnDocument.AFTER)
        if not raced and counter is not None:
            return int(counter["seq"])
    raise ServiceUnavailable("Numbering is unavailable; try again")
