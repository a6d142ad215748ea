"""The short-page rule (`core.paging.page_total`): a page shorter than its limit tells the total;
only a full page, or an empty page past the first, asks for a count."""

from __future__ import annotations

import pytest

from functions.core.paging import page_total, pagination


def counted(total: int, asked: list[int]):
    def count() -> int:
        asked.append(total)
        return total
    return count


@pytest.mark.parametrize(("page", "skip", "limit", "total", "needs_count"), [
    ([1, 2, 3], 0, 20, 3, False),        # a short first page: the total is on it
    ([], 0, 20, 0, False),               # an empty first page: nothing matches
    ([1] * 5, 40, 20, 45, False),        # a short last page: skip + what is on it
    ([1] * 20, 0, 20, 57, True),         # a full page: more may follow
    ([], 60, 20, 57, True),              # an empty page past the end: the total is elsewhere
])
def test_the_count_is_asked_only_when_the_page_cannot_tell(page, skip, limit, total, needs_count) -> None:
    # Given a page read with `skip` and `limit` from a list of `total` matches
    asked: list[int] = []
    # When its total is computed
    result = page_total(page, skip, limit, counted(total, asked))
    # Then it is right, and the database was asked only when it had to be
    assert result == total and bool(asked) is needs_count


def test_pagination_names_the_pages() -> None:
    assert pagination(45, 3, 20) == {"total": 45, "page": 3, "pages": 3, "limit": 20}
    assert pagination(0, 1, 20) == {"total": 0, "page": 1, "pages": 0, "limit": 20}
