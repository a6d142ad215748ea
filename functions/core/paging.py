"""Paged lists: one page of a collection and the total it belongs to, and the `pagination`
object of a list answer (`{total, page, pages, limit}`).

The short-page rule, written once: a page shorter than `limit` (and not an empty page past the
first) already tells the total, `skip + len(page)`, so the count round trip is skipped; a full
page, or an empty one past the end, asks the database for the count.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pymongo.collection import Collection


def page_total(page: Sequence[Any], skip: int, limit: int, count: Callable[[], int]) -> int:
    """The number of matches of the list `page` was read from (`skip` items before it, at most
    `limit` in it); `count()` is asked only when the page cannot tell."""
    if len(page) < limit and (page or skip == 0):
        return skip + len(page)
    return int(count())


def find_page(collection: Collection[dict[str, Any]], query: dict[str, Any], *, sort: list[tuple[str, int]],
              skip: int, limit: int, projection: dict[str, Any] | None = None,
              ) -> tuple[list[dict[str, Any]], int]:
    """One sorted page of the documents `query` matches, and their total: one read, plus a count
    only when the page does not tell it (`page_total`). `sort` should end with a unique field
    (`_id`) so pages never overlap."""
    items = list(collection.find(query, projection).sort(sort).skip(skip).limit(limit))
    return items, page_total(items, skip, limit, lambda: collection.count_documents(query))


def pagination(total: int, page: int, limit: int) -> dict[str, int]:
    return {"total": total, "page": page, "pages": math.ceil(total / limit) if total else 0, "limit": limit}
