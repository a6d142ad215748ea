"""`core.db.unless_duplicate`: the one place a unique index's refusal is caught; every other
error of the block propagates."""

from __future__ import annotations

import pytest
from pymongo.errors import DuplicateKeyError, OperationFailure

from functions.core.db import unless_duplicate


@pytest.mark.parametrize("refusal", [
    DuplicateKeyError("E11000 duplicate key error", 11000),
    OperationFailure("E11000 duplicate key", 11000),
    OperationFailure("UNIQUE constraint failed: t.x", 1),  # FerretDB on SQLite, on an update
    OperationFailure("ERROR: duplicate key value (SQLSTATE 23505)", 1),  # FerretDB on PostgreSQL
])
def test_a_unique_index_refusing_the_write_is_an_answer(refusal: Exception) -> None:
    # Given a write that a unique index refuses (in each form the servers report it)
    # When it runs under unless_duplicate
    with unless_duplicate() as refused:
        raise refusal
    # Then the block ends quietly and the refusal is told
    assert refused


def test_a_write_that_succeeds_is_not_refused() -> None:
    with unless_duplicate() as refused:
        pass
    assert not refused


def test_any_other_error_propagates() -> None:
    # Given a write failing for another reason
    # Then it is not mistaken for a duplicate
    with pytest.raises(OperationFailure, match="boom"), unless_duplicate():
        raise OperationFailure("boom", 2)
