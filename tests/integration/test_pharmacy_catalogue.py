"""The public medicine catalogue: only listed (active, of a verified and active pharmacy) and
unexpired medicines, with escaped searches."""

import pytest

from tests.http import call
from tests.pharmacy_support import body, make_medicine, make_pharmacy


@pytest.fixture
def stock(api, clock):
    shop = make_pharmacy()
    items = {
        "para": make_medicine(shop, name="Paracetamol", price=25, stock=50),
        "amox": make_medicine(shop, name="Amoxicillin", category="Antibiotics", price=90,
                              prescriptionRequired=True, stock=0),
        "zinc": make_medicine(shop, name="Zinc", category="Vitamins & Supplements", price=300.50, stock=5,
                              manufacturer="HealthCo"),
        "expired": make_medicine(shop, name="Expired Tonic", expiryDate="2026-01-01"),
        "inactive": make_medicine(shop, name="Withdrawn", isActive=False),
    }
    hidden = {s: make_medicine(make_pharmacy(verification=s), name=f"Hidden {s}")
              for s in ("pending", "suspended", "rejected")}
    return shop, items, hidden


def names(response):
    return sorted(m["name"] for m in body(response)["medicines"])


def test_the_catalogue_shows_only_listed_unexpired_medicines(api, stock):
    shop, items, hidden = stock
    response = call(api, "GET", "/medicines")
    assert response.status_code == 200
    assert names(response) == ["Amoxicillin", "Paracetamol", "Zinc"]
    first = body(response)["medicines"][0]
    assert {"discountedPrice", "inStock", "lowStock"} <= set(first) and first["pharmacy"]["name"]
    assert (first["name"], first["price"], first["mrp"]) == ("Amoxicillin", 90, 90)  # rupees
    for medicine in (items["expired"], items["inactive"], *hidden.values()):
        assert call(api, "GET", f"/medicine/{medicine['_id']}").status_code == 404
    assert body(call(api, "GET", f"/medicine/{items['para']['_id']}"))["medicine"]["pharmacy"]["_id"] == \
        str(shop["_id"])


def test_catalogue_filters_and_sorts(api, stock):
    listed = lambda q: [m["name"] for m in body(call(api, "GET", "/medicines" + q))["medicines"]]  # noqa: E731
    assert listed("?category=Antibiotics") == ["Amoxicillin"]
    assert listed("?sortBy=price-high") == ["Zinc", "Amoxicillin", "Paracetamol"]
    # prices in rupees, as the store's price filter sends them (blank means no bound)
    assert listed("?minPrice=50&maxPrice=100") == ["Amoxicillin"]
    assert listed("?minPrice=90.00&maxPrice=300.5") == ["Amoxicillin", "Zinc"]
    assert listed("?minPrice=&maxPrice=&prescriptionRequired=") == ["Amoxicillin", "Paracetamol", "Zinc"]
    assert listed("?maxPrice=300.49") == ["Amoxicillin", "Paracetamol"]
    assert call(api, "GET", "/medicines?minPrice=1.005").status_code == 400
    assert listed("?prescriptionRequired=true") == ["Amoxicillin"]
    assert listed("?search=healthco") == ["Zinc"]
    assert listed("?city=pune") == ["Amoxicillin", "Paracetamol", "Zinc"]
    assert listed("?city=Mumbai") == []
    assert call(api, "GET", "/medicines?limit=101").status_code == 400
    page = body(call(api, "GET", "/medicines?limit=2&page=2"))
    assert page["pagination"] == {"total": 3, "page": 2, "pages": 2, "limit": 2} and len(page["medicines"]) == 1


def test_search_is_escaped_case_insensitive_and_needs_two_characters(api, stock):
    assert names(call(api, "GET", "/medicines/search?q=AMOX")) == ["Amoxicillin"]
    assert body(call(api, "GET", "/medicines/search?q=p"))["medicines"] == []
    # D-19: a catastrophic-backtracking pattern is a harmless literal
    for q in ("(a%2B)%2B%24", "%5B", "(x%2Bx%2B)%2By"):
        response = call(api, "GET", f"/medicines/search?q={q}")
        assert response.status_code == 200 and body(response)["medicines"] == []
    assert call(api, "GET", "/medicines?search=(a%2B)%2B%24&city=(a%2B)%2B%24").status_code == 200


def test_categories_are_the_names_in_use_with_their_counts_beside(api, stock):
    # When the store asks for the categories
    answer = body(call(api, "GET", "/medicines/categories"))
    # Then it gets the names of the categories of listed, unexpired medicines (strings it renders),
    # and the counts in their own field
    assert answer["categories"] == ["Pain Relief", "Antibiotics", "Vitamins & Supplements"]
    assert answer["counts"] == {"Pain Relief": 1, "Antibiotics": 1, "Vitamins & Supplements": 1}


def test_featured_are_in_stock(api, stock):
    assert names(call(api, "GET", "/medicines/featured")) == ["Paracetamol", "Zinc"]


def test_a_pharmacys_medicines_only_while_it_is_listed(api, stock):
    shop, _, hidden = stock
    assert names(call(api, "GET", f"/pharmacy/{shop['_id']}/medicines")) == ["Amoxicillin", "Paracetamol", "Zinc"]
    suspended = hidden["suspended"]["pharmacy"]
    assert call(api, "GET", f"/pharmacy/{suspended}/medicines").status_code == 404
