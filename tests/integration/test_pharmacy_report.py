"""The pharmacist's report and stats, and the admin analytics, on a known data set."""

import pytest

from tests.factories import make_user
from tests.http import call
from tests.pharmacy_support import body, make_medicine, make_pharmacy, order_body, patient


def _order(api, shop, items, customer=None):
    data = order_body(shop, items, deliveryInfo={"type": "pickup"})
    response = call(api, "POST", "/orders", as_=customer or patient(), json=data)
    assert response.status_code == 201, response.body
    return body(response)["order"]


def _deliver(api, shop, order):
    for status in ("confirmed", "preparing", "ready", "delivered"):
        assert call(api, "PUT", f"/order/{order['_id']}/status", as_=shop["ownerUser"],
                    json={"status": status}).status_code \
            == 200


@pytest.fixture
def data_set(api, clock):
    """Two days of orders (pickup, so totals are item totals), in rupees:
    2026-03-02: 45 delivered (A x2, B x1), 20 pending (C x4), 10 cancelled (A x1)
    2026-03-03: 50 delivered (B x2), 30 confirmed (A x3)
    and another pharmacy's delivered order that must not show up."""
    shop = make_pharmacy()
    a = make_medicine(shop, name="Alpha", price=10, mrp=10, manufacturer="AlphaLabs")
    b = make_medicine(shop, name="Beta", price=25, mrp=25)
    c = make_medicine(shop, name="Gamma", price=5, mrp=5)
    _deliver(api, shop, _order(api, shop, [(a, 2), (b, 1)]))
    _order(api, shop, [(c, 4)])
    customer = patient()
    cancelled = _order(api, shop, [(a, 1)], customer)
    assert call(api, "PUT", f"/order/{cancelled['_id']}/cancel", as_=customer, json={}).status_code == 200
    clock.advance(days=1)
    _deliver(api, shop, _order(api, shop, [(b, 2)]))
    confirmed = _order(api, shop, [(a, 3)])
    call(api, "PUT", f"/order/{confirmed['_id']}/status", as_=shop["ownerUser"], json={"status": "confirmed"})
    other = make_pharmacy()
    _deliver(api, other, _order(api, other, [(make_medicine(other, price=70.25, mrp=70.25), 1)]))
    return shop


def test_the_report_figures(api, data_set):
    response = call(api, "GET", "/pharmacy/report?startDate=2026-03-01&endDate=2026-03-31", as_=data_set["ownerUser"])
    assert response.status_code == 200, response.body
    report = body(response)["report"]
    stats = {s["_id"]: s for s in report["orderStats"]}
    assert stats["delivered"]["daily"] == [{"date": "2026-03-02", "count": 1, "revenue": 45},
                                           {"date": "2026-03-03", "count": 1, "revenue": 50}]
    assert (stats["delivered"]["totalCount"], stats["delivered"]["totalRevenue"]) == (2, 95)
    assert stats["pending"]["daily"] == [{"date": "2026-03-02", "count": 1, "revenue": 20}]
    assert stats["cancelled"]["daily"] == [{"date": "2026-03-02", "count": 1, "revenue": 10}]
    assert stats["confirmed"]["daily"] == [{"date": "2026-03-03", "count": 1, "revenue": 30}]
    top = [(m["name"], m["totalQuantity"], m["totalRevenue"]) for m in report["topMedicines"]]
    assert top == [("Alpha", 5, 50), ("Gamma", 4, 20), ("Beta", 3, 75)]
    assert report["topMedicines"][0]["manufacturer"] == "AlphaLabs"
    assert report["summary"] == {"totalOrders": 5, "totalRevenue": 95, "currency": "INR",
                                 "topSellingMedicine": "Alpha"}
    assert report["period"] == {"startDate": "2026-03-01", "endDate": "2026-03-31", "type": "monthly"}


def test_the_report_period_and_its_default(api, data_set):
    owner = data_set["ownerUser"]
    one_day = body(call(api, "GET", "/pharmacy/report?startDate=2026-03-03&endDate=2026-03-03", as_=owner))["report"]
    assert one_day["summary"]["totalOrders"] == 2 and one_day["summary"]["totalRevenue"] == 50
    # D-21 (no start date crashed the reference): the last 30 days up to today
    default = body(call(api, "GET", "/pharmacy/report", as_=owner))["report"]
    assert default["period"]["startDate"] == "2026-02-02" and default["period"]["endDate"] == "2026-03-03"
    assert default["summary"]["totalOrders"] == 5
    for bad in ("startDate=2026-02-31", "startDate=2026-03-05&endDate=2026-03-01", "startDate=2020-01-01"):
        assert call(api, "GET", f"/pharmacy/report?{bad}", as_=owner).status_code == 400


def test_the_stats(api, data_set):
    stats = body(call(api, "GET", "/pharmacy/stats", as_=data_set["ownerUser"]))["stats"]
    assert stats["medicines"] == {"total": 3, "active": 3, "lowStock": 0}
    assert stats["orders"] == {"total": 5, "pending": 2, "today": 2}
    assert stats["revenue"] == {"total": 95, "thisMonth": 95, "currency": "INR"}


def test_admin_analytics_count_revenue_from_paid_or_delivered_orders_only(api, data_set):
    analytics = body(call(api, "GET", "/admin/analytics", as_=make_user("admin")))["analytics"]
    assert analytics["totalOrders"] == 6 and analytics["totalRevenue"] == 165.25  # ₹95 + ₹70.25
    assert analytics["ordersByStatus"] == {"delivered": 3, "pending": 1, "cancelled": 1, "confirmed": 1}
    assert (analytics["totalPharmacies"], analytics["verifiedPharmacies"], analytics["pendingPharmacies"]) == (2, 2, 0)
    assert analytics["recentOrders"] == 6 and analytics["totalMedicines"] == 4
    assert analytics["totalUsers"] >= 6
