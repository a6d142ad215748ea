"""`core.sequences.next_sequence` on the real database: numbers follow each other per key, twenty
containers asking at once on a new day get 1..20 with none twice, and a counter that cannot be
written is a 503, never a duplicate number."""

from __future__ import annotations

from typing import Any

import pytest
from pymongo import ASCENDING, IndexModel

from functions.core.db import get_db
from functions.core.errors import ServiceUnavailable
from functions.core.sequences import next_sequence
from tests.lambda_race import race_calls

CONTAINERS = 20


def test_each_key_counts_on_its_own(db: Any) -> None:
    # Given two days' sequences in one collection
    counters = db["scratch_counters"]
    # When numbers are taken from each
    taken = [next_sequence(counters, "rx:260302"), next_sequence(counters, "rx:260302"),
             next_sequence(counters, "rx:260303"), next_sequence(counters, "rx:260302")]
    # Then each day counts from 1, and the counter documents hold the last number
    assert taken == [1, 2, 1, 3]
    assert {d["_id"]: d["seq"] for d in counters.find()} == {"rx:260302": 3, "rx:260303": 1}


def test_twenty_containers_numbering_a_new_day_at_once_get_one_to_twenty(db: Any) -> None:
    # Given a day nobody has numbered yet (every first use races to create its counter)
    # When twenty containers take a number at the same moment
    numbers = race_calls(lambda _: next_sequence(get_db()["scratch_counters"], "260302"), CONTAINERS)
    # Then each gets a different number, 1..20, and the counter says 20
    assert sorted(numbers) == list(range(1, CONTAINERS + 1))
    assert db["scratch_counters"].find_one({"_id": "260302"}) == {"_id": "260302", "seq": CONTAINERS}


def test_a_counter_that_cannot_be_written_is_a_503(db: Any) -> None:
    # Given a collection whose unique index refuses every new counter document
    counters = db["scratch_counters"]
    counters.create_indexes([IndexModel([("seq", ASCENDING)], unique=True, name="uniq_seq")])
    counters.insert_one({"_id": "other", "seq": 1})
    # When a number is asked of a new key (its first `seq` collides each time)
    with pytest.raises(ServiceUnavailable) as refused:
        next_sequence(counters, "260302")
    # Then it is a 503 (retry later), and no second counter was made
    assert refused.value.status == 503
    assert counters.count_documents({}) == 1
