"""Paged lists: the `pagination` object of a list answer (`{total, page, pages, limit}`)."""

from __future__ import annotations

import math


def pagination(total: int, page: int, limit: int) -> dict[str, int]:
    return {"total": total, "page": page, "pages": math.ceil(total / limit) if total else 0, "limit": limit}
