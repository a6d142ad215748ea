"""The public medicine catalogue.

The public medicine catalogue: only listed (active, of a verified and active pharmacy) and
unexpired medicines (D-16, D-50: the catalogue showed medicines of unverified or suspended
pharmacies, and expired ones). Searches use escaped regexes on a normalised field (D-19).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from bson import ObjectId

from functions.core import clock
from functions.core.db import object_id
from functions.core.errors import NotFound
from functions.pharmacy import medicine_rules
from functions.pharmacy.pharmacies import rating_of
from functions.pharmacy.schemas import CATEGORIES, CatalogueQuery, FeaturedQuery, SearchQuery
from functions.pharmacy.stores import medicines, pharmacies

PHARMACY_FIELDS = {"name": 1, "address": 1, "contactInfo": 1, "ratingSum": 1, "totalReviews": 1,
                   "operatingHours": 1}
SEARCH_FIELDS = {"name": 1, "genericName": 1, "manufacturer": 1, "price": 1, "mrp": 1, "images": 1,
                 "pharmacy": 1, "category": 1, "stock": 1, "minStock": 1, "strength": 1, "prescriptionRequired": 1}
MAX_CITY_PHARMACIES = 500
_SORTS: dict[str, list[tuple[str, int]]] = {
    "price-low": [("price", 1)], "price-high": [("price", -1)], "rating": [("rating", -1)],
    "newest": [("createdAt", -1)], "popular": [("soldCount", -1)], "name": [("name", 1)],
}


def _with_pharmacies(items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each medicine with its pharmacy's public summary (one `$in` read for the page)."""
    shops = pharmacies.by_ids([d["pharmacy"] for d in items], PHARMACY_FIELDS)
    now = clock.now()
    out = []
    for doc in items:
        api = medicine_rules.to_api(doc, now)
        shop = shops.get(doc["pharmacy"])
        if shop is not None:
            api["pharmacy"] = {"_id": shop["_id"], "name": shop.get("name"), "address": shop.get("address"),
                               "contactInfo": shop.get("contactInfo"), "rating": rating_of(shop),
                               "operatingHours": shop.get("operatingHours")}
        out.append(api)
    return out


class NothingToFind(Exception):
    """A search text without a usable word: the answer is empty, without a database read."""


def _filters(query: CatalogueQuery) -> dict[str, Any]:
    filters: dict[str, Any] = {"listed": True, "expiryDate": {"$gt": clock.now()}}
    if query.category and query.category != "all":
        filters["category"] = query.category
    text = query.search or query.keyword
    if text and text.strip():
        # D-19 (unescaped regexes): the search is an equality on word prefixes, no regex at all.
        search = medicine_rules.search_filter(text)
        if search is None:
            raise NothingToFind
        filters.update(search)
    price: dict[str, int] = {}
    if query.minPrice is not None:
        price["$gte"] = query.minPrice
    if query.maxPrice is not None:
        price["$lte"] = query.maxPrice
    if price:
        filters["price"] = price
    if query.prescriptionRequired is not None:
        filters["prescriptionRequired"] = query.prescriptionRequired
    return filters


def _near(query: CatalogueQuery) -> list[ObjectId] | None:
    """Listed pharmacies in that city/pincode (None = no place filter)."""
    if not (query.city or query.pincode):
        return None
    where: dict[str, Any] = {"listed": True}
    if query.city:
        where["address.city"] = {"$regex": re.escape(query.city.strip()), "$options": "i"}
    if query.pincode:
        where["address.pincode"] = query.pincode.strip()
    found, _ = pharmacies.list_page(where, 0, MAX_CITY_PHARMACIES, {"_id": 1})
    return [d["_id"] for d in found]


def listing(query: CatalogueQuery) -> tuple[list[dict[str, Any]], int]:
    try:
        filters = _filters(query)
    except NothingToFind:
        return [], 0
    near = _near(query)
    if near is not None:
        if not near:
            return [], 0
        filters["pharmacy"] = {"$in": near}
    items, total = medicines.page(filters, _SORTS[query.sortBy or "name"] + [("_id", 1)], query.skip, query.limit)
    return _with_pharmacies(items), total


def search(query: SearchQuery) -> list[dict[str, Any]]:
    """Type-ahead: words of at least 2 characters, each the start of a word of the medicine
    (shorter queries find nothing, without a database read)."""
    search_filter = medicine_rules.search_filter(query.q)
    if search_filter is None:
        return []
    filters = {"listed": True, "expiryDate": {"$gt": clock.now()}, **search_filter}
    items, _ = medicines.page(filters, [("name", 1), ("_id", 1)], 0, query.limit, SEARCH_FIELDS)
    return _with_pharmacies(items)


def categories() -> tuple[list[str], dict[str, int]]:
    """The categories in use (as the reference's `distinct`: names only, which the store page
    renders as text) in the enum's order, and the number of listed, unexpired medicines in
    each: one aggregation."""
    counts = medicines.count_by_category(clock.now())
    names = [name for name in CATEGORIES if counts.get(name, 0) > 0]
    return names, {name: counts[name] for name in names}


def featured(query: FeaturedQuery) -> list[dict[str, Any]]:
    filters = {"listed": True, "stock": {"$gt": 0}, "expiryDate": {"$gt": clock.now()}}
    items, _ = medicines.page(filters, [("rating", -1), ("soldCount", -1), ("_id", 1)], 0, query.limit)
    return _with_pharmacies(items)


def one(medicine_id: str) -> dict[str, Any]:
    doc = medicines.get_listed(object_id(medicine_id, "Medicine"), clock.now())
    if doc is None:
        raise NotFound.of("Medicine")
    return _with_pharmacies([doc])[0]


def of_pharmacy(pharmacy_id: str, query: CatalogueQuery) -> tuple[list[dict[str, Any]], int]:
    target = object_id(pharmacy_id, "Pharmacy")
    if pharmacies.get_listed(target) is None:
        raise NotFound.of("Pharmacy")
    try:
        filters = {"pharmacy": target, **_filters(query)}
    except NothingToFind:
        return [], 0
    sort = _SORTS["name" if query.sortBy == "popular" else (query.sortBy or "name")]
    items, total = medicines.page(filters, [*sort, ("_id", 1)], query.skip, query.limit)
    now = clock.now()
    return [medicine_rules.to_api(d, now) for d in items], total
