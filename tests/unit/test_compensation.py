"""core.compensation: the undo steps of a multi-document use case."""

from __future__ import annotations

import pytest

from functions.core.compensation import Compensations


def test_a_failure_undoes_every_step_begun_newest_first() -> None:
    undone: list[str] = []
    with pytest.raises(RuntimeError, match="order insert"), Compensations("place order") as undo:
        undo.step("take stock", lambda: undone.append("stock back"))
        undo.step("reserve prescription", lambda: undone.append("reservation back"))
        raise RuntimeError("order insert failed")
    assert undone == ["reservation back", "stock back"]


def test_success_undoes_nothing() -> None:
    undone: list[str] = []
    with Compensations("book") as undo:
        undo.step("claim cells", lambda: undone.append("released"))
    assert undone == []


def test_a_failing_compensation_neither_stops_the_others_nor_hides_the_cause() -> None:
    undone: list[str] = []

    def broken() -> None:
        raise ConnectionError("still away")

    with pytest.raises(ValueError, match="the cause"), Compensations("book") as undo:
        undo.step("claim cells", lambda: undone.append("released"))
        undo.step("seat", broken)
        raise ValueError("the cause")
    assert undone == ["released"]
