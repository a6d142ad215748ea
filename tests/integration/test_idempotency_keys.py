"""core.idempotency: a key is claimed once per caller and scope; a retry finds the first claim."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from bson import ObjectId

from functions.core import idempotency
from functions.core.errors import Unprocessable
from tests.lambda_race import race_calls

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def test_the_first_claim_wins_and_a_retry_finds_it(db: Any) -> None:
    caller, first, second = ObjectId(), ObjectId(), ObjectId()
    assert idempotency.claim("booking", caller, "k-1", first, "fp", NOW) is None
    earlier = idempotency.claim("booking", caller, "k-1", second, "fp", NOW)
    assert earlier is not None and idempotency.resource_of(earlier, "fp") == first
    # A different body under the same key is refused
    with pytest.raises(Unprocessable) as refused:
        idempotency.resource_of(earlier, "another body")
    assert refused.value.code == "IDEMPOTENCY_KEY_REUSED"


def test_keys_are_the_callers_own_and_per_scope(db: Any) -> None:
    one, other = ObjectId(), ObjectId()
    assert idempotency.claim("order", one, "same", ObjectId(), "fp", NOW) is None
    assert idempotency.claim("order", other, "same", ObjectId(), "fp", NOW) is None
    assert idempotency.claim("booking", one, "same", ObjectId(), "fp", NOW) is None


def test_a_released_claim_can_be_claimed_again(db: Any) -> None:
    caller, resource = ObjectId(), ObjectId()
    idempotency.claim("order", caller, "k", resource, "fp", NOW)
    idempotency.release("order", caller, "k", resource)
    assert idempotency.claim("order", caller, "k", ObjectId(), "fp", NOW) is None


def test_the_sweep_drops_claims_of_past_days_only(db: Any) -> None:
    caller = ObjectId()
    idempotency.claim("order", caller, "old", ObjectId(), "fp", NOW - timedelta(days=2))
    idempotency.claim("order", caller, "new", ObjectId(), "fp", NOW)
    assert idempotency.sweep(NOW) == {"idempotencyKeysDropped": 1}
    assert idempotency.claim("order", caller, "new", ObjectId(), "fp", NOW) is not None


def test_twenty_concurrent_claims_of_one_key_have_one_winner(db: Any) -> None:
    caller = ObjectId()
    results = race_calls(lambda i: idempotency.claim("booking", caller, "k", ObjectId(), "fp", NOW) is None, 20)
    assert results.count(True) == 1
