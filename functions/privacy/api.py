"""The privacy domain's public seam: nothing is asked of it by another domain (it reaches the
others, to gather a user's data and to close an account; none reaches it)."""

from __future__ import annotations

__all__: list[str] = []
