"""Pure rules of medicine documents.

Pure rules about medicine documents: derived fields and the API shape (no I/O; prices are
stored in minor units and shown in major units of the default currency)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from functions.core.config import get_settings
from functions.core.money import to_major

# takes: order ids of others; shopListed: the pharmacy's listing, copied for the edit's filter
INTERNAL = ("searchText", "searchTokens", "orderedImages", "takes", "takesPending", "shopListed")
MIN_TOKEN, MAX_TOKEN, MAX_TOKENS = 2, 20, 400
_WORD = re.compile(r"[0-9a-z]+")
# Server-managed fields a client may echo back on an update: dropped, never applied (D-17: an
# owner could move a medicine to another pharmacy or set its rating and sales).
READ_ONLY = frozenset({"_id", "id", "pharmacy", "rating", "totalReviews", "soldCount", "discount", "createdAt",
                       "updatedAt", "listed", "discountedPrice", "inStock", "lowStock", "expired", "__v"})


def discount_percent(price: int, mrp: int) -> int:
    """Derived from price and MRP, never trusted from the client (whole percent, rounded down)."""
    return (mrp - price) * 100 // mrp if mrp > 0 and price < mrp else 0


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


def search_text(doc: Mapping[str, Any]) -> str:
    """One lower-cased field searched with one escaped regex (no `$text` on the embedded engine)."""
    parts: Iterable[Any] = (doc.get("name"), doc.get("genericName"), doc.get("manufacturer"), doc.get("composition"),
                            *(doc.get("tags") or []))
    return " | ".join(normalise(str(p)) for p in parts if p)


def words(text: str) -> list[str]:
    """Lower-case letter/digit runs: `"Dolo-650 (Micro)"` -> `["dolo", "650", "micro"]`."""
    return _WORD.findall(text.casefold())


def search_tokens(doc: Mapping[str, Any]) -> list[str]:
    """Every prefix (2..20 characters) of every word of the searchable fields. The catalogue's
    search is then an equality on one array element, which the engine can answer from an index
    (MongoDB: multikey; embedded FerretDB: pushed into SQL) instead of a regex over every
    listed medicine."""
    tokens: set[str] = set()
    for word in words(search_text(doc)):
        tokens.update(word[:n] for n in range(MIN_TOKEN, min(len(word), MAX_TOKEN) + 1))
    return sorted(tokens, key=lambda t: (len(t), t))[:MAX_TOKENS]


def search_filter(text: str) -> dict[str, Any] | None:
    """The catalogue filter for a search text: each word must begin a word of the medicine
    (name, generic name, manufacturer, composition or tag). None when no word is long enough."""
    wanted = sorted({w for w in words(text) if len(w) >= MIN_TOKEN}, key=len, reverse=True)
    if not wanted:
        return None
    clauses = [{"searchTokens": w[:MAX_TOKEN]} for w in wanted[:5]]
    query: dict[str, Any] = dict(clauses[0])
    if len(clauses) > 1:
        query["$and"] = clauses[1:]
    return query


def is_low(doc: Mapping[str, Any]) -> bool:
    return 0 < int(doc.get("stock", 0)) <= int(doc.get("minStock", 10))


def to_api(doc: Mapping[str, Any], now: datetime | None = None, currency: str | None = None) -> dict[str, Any]:
    """The stored medicine plus the virtuals the reference never serialised (D-50), its prices
    in major units of `currency` (the default currency when None: pharmacy records are in it)."""
    currency = currency or get_settings().default_currency
    out = {k: v for k, v in doc.items() if k not in INTERNAL}
    stock = int(doc.get("stock", 0))
    for key in ("price", "mrp"):
        if key in doc:
            out[key] = to_major(doc[key], currency)
    out["discountedPrice"] = to_major(int(doc.get("price", 0)), currency)
    out["inStock"] = stock > 0
    out["lowStock"] = is_low(doc)
    if now is not None and isinstance(doc.get("expiryDate"), datetime):
        out["expired"] = doc["expiryDate"] <= now
    return out
