"""Pure order rules: the status machine, delivery charge, numbers, revenue, medicine shape."""

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import get_args

import pytest

from functions.core.errors import Conflict
from functions.pharmacy import medicine_rules, order_rules, order_views
from functions.pharmacy import status as statuses
from functions.pharmacy.status import NEXT

STATUSES = list(NEXT)
LEGAL = {
    ("pending", "confirmed"), ("pending", "cancelled"), ("confirmed", "preparing"), ("confirmed", "cancelled"),
    ("preparing", "ready"), ("preparing", "cancelled"), ("ready", "cancelled"), ("dispatched", "delivered"),
}


@pytest.mark.parametrize("kind", ["delivery", "pickup"])
@pytest.mark.parametrize("current", STATUSES)
@pytest.mark.parametrize("target", STATUSES)
def test_the_status_machine(current, target, kind):
    legal = (current, target) in LEGAL or (current, target) == ("ready", "dispatched" if kind == "delivery"
                                                                else "delivered")
    assert statuses.allowed(current, target, kind) is legal
    if legal:
        statuses.check_transition(current, target, kind)
    else:
        with pytest.raises(Conflict):
            statuses.check_transition(current, target, kind)


def test_the_statuses_the_models_accept_are_the_statuses_of_the_machine():
    # The request models' Literal types spell the statuses once more (a Literal takes no names)
    assert get_args(statuses.OrderStatus) == statuses.ORDER_STATUSES == tuple(NEXT)
    assert get_args(statuses.VerificationStatus) == statuses.VERIFICATION_STATUSES
    assert set(get_args(statuses.DeliveryType)) == {statuses.DELIVERY, statuses.PICKUP}
    assert set(get_args(statuses.PaymentMethod)) == {statuses.COD, statuses.ONLINE}
    assert set(get_args(statuses.ShopStatus)) == {statuses.ACTIVE, statuses.INACTIVE}


def test_sources_are_the_statuses_that_may_move_to_a_target():
    assert statuses.sources("cancelled", "delivery") == ["pending", "confirmed", "preparing", "ready"]
    assert statuses.sources("delivered", "delivery") == ["dispatched"]
    assert statuses.sources("delivered", "pickup") == ["ready", "dispatched"]  # a pickup is never dispatched


@pytest.mark.parametrize(("total", "kind", "shop", "charge"), [
    (10_000, "delivery", {"deliveryCharges": 4000, "freeDeliveryAbove": 50_000}, 4000),
    (50_000, "delivery", {"deliveryCharges": 4000, "freeDeliveryAbove": 50_000}, 0),
    (10_000, "pickup", {"deliveryCharges": 4000, "freeDeliveryAbove": 50_000}, 0),
    (10_000, "delivery", {"deliveryCharges": 0}, 0),
    (10_000, "delivery", {"deliveryCharges": 2500, "freeDeliveryAbove": None}, 2500),
])
def test_delivery_charge(total, kind, shop, charge):
    assert order_rules.delivery_charge(total, kind, shop) == charge


def test_order_numbers_have_at_least_four_digits_and_no_ceiling():
    assert order_rules.order_number(date(2026, 3, 2), 7) == "ORD2603020007"
    assert order_rules.order_number(date(2026, 3, 2), 123_456) == "ORD260302123456"


def test_the_local_day_is_the_pharmacys_business_day():
    late_utc = datetime(2026, 3, 2, 20, 0, tzinfo=UTC)  # 01:30 on the 3rd in India
    assert order_rules.local_day(late_utc, "Asia/Kolkata") == date(2026, 3, 3)


@pytest.mark.parametrize(("status", "payment", "revenue"), [
    ("delivered", "completed", True), ("delivered", "pending", True), ("pending", "completed", True),
    ("pending", "pending", False), ("cancelled", "completed", False), ("delivered", "refunded", False),
])
def test_what_counts_as_revenue(status, payment, revenue):
    assert statuses.counts_as_revenue(status, payment) is revenue


def test_discount_is_derived_and_virtuals_are_serialised():
    assert medicine_rules.discount_percent(2250, 3000) == 25
    assert medicine_rules.discount_percent(3000, 3000) == 0
    assert medicine_rules.discount_percent(0, 0) == 0
    shaped = medicine_rules.to_api({"price": 900, "stock": 3, "minStock": 10, "searchText": "x"}, currency="INR")
    assert shaped == {"price": Decimal("9.00"), "stock": 3, "minStock": 10, "discountedPrice": Decimal("9.00"),
                      "inStock": True, "lowStock": True}  # paise stored, rupees shown


def test_orders_show_amounts_in_major_units_of_their_currency_and_admins_get_the_tabs_keys():
    order = {"_id": 1, "pharmacy": 2, "customer": 3, "orderStatus": "pending",
             "items": [{"medicine": 4, "name": "Dolo", "price": 4550, "mrp": 5000, "discount": 9, "lineTotal": 9100,
                        "quantity": 2}],
             "pricing": {"itemsPrice": 9100, "discount": 900, "deliveryCharge": 4000, "totalPrice": 13100,
                         "currency": "INR"}}
    shaped = order_views.to_admin_api(order, {"_id": 2, "name": "Good Health"},
                                      {"_id": 3, "name": "Asha", "contact": "+919800000001", "contactType": "phone"})
    assert shaped["pricing"] == {"itemsPrice": 91, "discount": 9, "deliveryCharge": 40, "totalPrice": 131,
                                 "currency": "INR"}
    assert {k: shaped["items"][0][k] for k in ("price", "mrp", "discount", "lineTotal")} == {
        "price": Decimal("45.50"), "mrp": 50, "discount": 9, "lineTotal": 91}  # an item's discount is a percentage
    assert (shaped["totalAmount"], shaped["status"]) == (131, "pending")
    assert (shaped["pharmacyId"]["name"], shaped["userId"]["name"]) == ("Good Health", "Asha")
    assert shaped["customer"] == {"_id": 3, "name": "Asha", "phone": "+919800000001", "email": None}
    assert order["pricing"]["totalPrice"] == 13100  # the stored order is left as it was
    yen = order_views.to_api({**order, "pricing": {**order["pricing"], "currency": "JPY"}})
    assert yen["pricing"]["totalPrice"] == 13100


def test_search_text_is_normalised():
    doc = {"name": "  Dolo  650 ", "genericName": "Paracetamol", "manufacturer": "Micro", "tags": ["Fever"]}
    assert medicine_rules.search_text(doc) == "dolo 650 | paracetamol | micro | fever"


def test_the_fingerprint_ignores_key_order():
    assert order_rules.fingerprint({"a": 1, "b": [1, 2]}) == order_rules.fingerprint({"b": [1, 2], "a": 1})


def test_search_tokens_are_word_prefixes_and_searches_need_each_word():
    tokens = medicine_rules.search_tokens({"name": "Dolo-650", "manufacturer": "Micro Labs"})
    assert {"do", "dol", "dolo", "65", "650", "mi", "micro", "la", "labs"} <= set(tokens)
    assert "olo" not in tokens and "o" not in tokens
    assert medicine_rules.search_filter("DOLO 65") == {"searchTokens": "dolo", "$and": [{"searchTokens": "65"}]}
    assert medicine_rules.search_filter("(a+)+$") is None and medicine_rules.search_filter("x") is None
    assert medicine_rules.search_filter("x" * 40) == {"searchTokens": "x" * 20}
