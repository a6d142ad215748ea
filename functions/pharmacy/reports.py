"""Figures: the pharmacist's stats and report, and the admin analytics.

The embedded engine aggregates with `$match`/`$group`/`$sum` but has no `$multiply` and no date
operators, so the order carries what is grouped on when it is written: its local day
(`localDay`, the pharmacy's business day), its line totals (in `order_lines`) and whether it
counts as revenue (`isRevenue`: delivered or paid, never cancelled or refunded). D-21: the
reference's report grouped on fields that did not exist and crashed without a start date;
D-18: its revenue trusted a client-set payment status. Sums are made in minor units and shown in
major units of the default currency (pharmacy records are in it).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from functions.core import clock, users
from functions.core.config import get_settings
from functions.core.errors import BadRequest, Code
from functions.core.money import to_major
from functions.core.security import PATIENT, Principal
from functions.pharmacy import order_rules
from functions.pharmacy.order_schemas import ReportQuery
from functions.pharmacy.pharmacies import owned, rating_of
from functions.pharmacy.status import AWAITING_VERIFICATION, CUSTOMER_CANCELLABLE, VERIFICATION_STATUSES, VERIFIED
from functions.pharmacy.stores import medicines, order_counters, order_lines, orders, pharmacies

LOW_STOCK_SCAN = 5000
MAX_REPORT_DAYS = 366
REPORT_YEARS = (2000, 2999)  # a day outside these years is a typing mistake (and beyond date arithmetic)


def _major(minor: int) -> Any:
    return to_major(minor, get_settings().default_currency)


def _today() -> date:
    return order_rules.local_day(clock.now(), get_settings().default_timezone)


def pharmacy_stats(owner: Principal) -> dict[str, Any]:
    pharmacy = owned(owner)
    pid = pharmacy["_id"]
    active = medicines.all_of_pharmacy(pid, {"isActive": True}, {"stock": 1, "minStock": 1}, LOW_STOCK_SCAN)
    totals = orders.status_totals({"pharmacy": pid})
    return {
        "medicines": {
            "total": medicines.count({"pharmacy": pid}),
            "active": len(active),
            # the same rule as the low-stock list (the reference counted inactive items too)
            "lowStock": sum(1 for d in active if int(d.get("stock", 0)) <= int(d.get("minStock", 10))),
        },
        "orders": {
            "total": sum(int(r["count"]) for r in totals),
            "pending": sum(int(r["count"]) for r in totals
                           if r["_id"].get("status") in CUSTOMER_CANCELLABLE),
            "today": orders.count({"pharmacy": pid, "localDay": _today().isoformat()}),
        },
        "revenue": {"total": _major(sum(int(r["total"]) for r in totals if r["_id"].get("revenue") is True)),
                    "thisMonth": _major(_month_revenue(pid)), "currency": get_settings().default_currency},
        "rating": rating_of(pharmacy),
        "totalReviews": int(pharmacy.get("totalReviews") or 0),
    }


def _month_revenue(pharmacy_id: Any) -> int:
    """Revenue of the current local month (D-41: `monthlyRevenue` was never updated; it is
    computed when asked instead of kept as a counter that drifts)."""
    today = _today()
    rows = orders.status_day_totals(pharmacy_id, today.replace(day=1).isoformat(), today.isoformat())
    return sum(int(r["total"]) for r in rows if r["_id"].get("revenue") is True)


def _period(query: ReportQuery) -> tuple[date, date]:
    """The report's days, each bounded before any arithmetic (`endDate=0001-01-01` overflowed)."""
    end = _day(query.endDate) if query.endDate else _today()
    start = _day(query.startDate) if query.startDate else end - timedelta(days=29)
    if end < start:
        raise BadRequest("endDate is before startDate", code=Code.INVALID_DATE)
    if (end - start).days >= MAX_REPORT_DAYS:
        raise BadRequest(f"A report covers at most {MAX_REPORT_DAYS} days", code=Code.INVALID_DATE)
    return start, end


def _day(text: str) -> date:
    try:
        day = date.fromisoformat(text[:10])
    except ValueError:
        raise BadRequest("Dates must be real days (YYYY-MM-DD)", code=Code.INVALID_DATE) from None
    if not REPORT_YEARS[0] <= day.year <= REPORT_YEARS[1]:
        raise BadRequest(f"Report dates must lie between the years {REPORT_YEARS[0]} and {REPORT_YEARS[1]}",
                         code=Code.INVALID_DATE)
    return day


def pharmacy_report(owner: Principal, query: ReportQuery) -> dict[str, Any]:
    """Per status: a daily series `{date, count, revenue}` (revenue = the orders' totals) with
    `totalCount`/`totalRevenue`; the top 10 medicines by units then revenue (cancelled orders
    excluded); a summary whose `totalRevenue` counts delivered or paid orders only."""
    pharmacy = owned(owner)
    start, end = _period(query)
    first, last = start.isoformat(), end.isoformat()
    by_status: dict[str, dict[str, dict[str, int]]] = defaultdict(dict)
    total_orders = revenue = 0
    for row in orders.status_day_totals(pharmacy["_id"], first, last):
        key, count, amount = row["_id"], int(row["count"]), int(row["total"])
        day = by_status[str(key["status"])].setdefault(str(key["day"]), {"count": 0, "revenue": 0})
        day["count"] += count
        day["revenue"] += amount
        total_orders += count
        revenue += amount if key.get("revenue") is True else 0
    order_stats = [
        {"_id": status,
         "daily": [{"date": d, "count": v["count"], "revenue": _major(v["revenue"])} for d, v in sorted(days.items())],
         "totalCount": sum(v["count"] for v in days.values()),
         "totalRevenue": _major(sum(v["revenue"] for v in days.values()))}
        for status, days in sorted(by_status.items())
    ]
    merged: dict[Any, dict[str, Any]] = {}
    for row in order_lines.medicine_totals(pharmacy["_id"], first, last):
        key = row["_id"]
        entry = merged.setdefault(key["medicine"], {"_id": key["medicine"], "name": key.get("name"),
                                                    "manufacturer": key.get("manufacturer"),
                                                    "totalQuantity": 0, "totalRevenue": 0})
        entry["totalQuantity"] += int(row["quantity"])
        entry["totalRevenue"] += int(row["revenue"])
    top = sorted(merged.values(), key=lambda m: (-m["totalQuantity"], -m["totalRevenue"], str(m["name"])))[:10]
    return {
        "orderStats": order_stats,
        "topMedicines": [{**m, "totalRevenue": _major(m["totalRevenue"])} for m in top],
        "summary": {"totalOrders": total_orders, "totalRevenue": _major(revenue),
                    "currency": get_settings().default_currency,
                    "topSellingMedicine": top[0]["name"] if top else "N/A"},
        "period": {"startDate": first, "endDate": last, "type": query.reportType},
    }


def admin_analytics() -> dict[str, Any]:
    """Counts across the platform; revenue from paid or delivered orders only."""
    now = clock.now()
    by_verification = {s: pharmacies.count({"verificationStatus": s}) for s in VERIFICATION_STATUSES}
    order_rows = orders.status_totals({"isRevenue": True}) + orders.status_totals({"isRevenue": False})
    by_status: dict[str, int] = defaultdict(int)
    for row in order_rows:
        by_status[str(row["_id"]["status"])] += int(row["count"])
    today = _today()
    recent_days = [f"{today - timedelta(days=n):%y%m%d}" for n in range(30)]
    return {
        "totalPharmacies": sum(by_verification.values()),
        "verifiedPharmacies": by_verification[VERIFIED],
        "pendingPharmacies": by_verification[AWAITING_VERIFICATION],
        "pharmaciesByStatus": by_verification,
        "totalOrders": sum(by_status.values()),
        "ordersByStatus": dict(by_status),
        "totalRevenue": _major(sum(int(r["total"]) for r in order_rows if r["_id"].get("revenue") is True)),
        "currency": get_settings().default_currency,
        "totalUsers": users.count_role(PATIENT),
        "totalMedicines": medicines.count({"listed": True}) + medicines.count({"listed": False}),
        "recentOrders": order_counters.day_counts(recent_days),
        "recentUsers": users.count_role(PATIENT, since=now - timedelta(days=30)),
    }
