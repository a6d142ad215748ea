"""The repair sweep of orders: the backstop for what a compensation could not do.

Every stock take, customer's hold and prescription reservation is recorded in its own write (`takes.<order>` on
the medicine, `reservations.<order>` on the prescription). A record older than
`REPAIR_AFTER_SECONDS` (longer than any request lives) whose order was never stored, or was
cancelled, is given back (conditional on the record, so at most once, whoever else gives it back
meanwhile); the record of a delivered order is settled (forgotten, the units stay sold). Records
of orders still open stay: their cancel gives them back. Records younger than the limit belong
to requests in flight and are never touched. An order so found that has no report lines (that
step comes after the order and never fails its request) gets them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bson import ObjectId

from functions.core.config import get_settings
from functions.core.observability import logger
from functions.pharmacy.status import CANCELLED, DELIVERED
from functions.pharmacy.stores import medicines, order_holds, order_lines, orders

BATCH = 200  # medicines and prescriptions holding records, per run
# Orders placed this long before the repair limit are checked for their report lines (one read
# each); the sweep runs far more often, so every order is checked on at least one run.
LINES_WINDOW = timedelta(days=1)


def repair(now: datetime) -> dict[str, int]:
    from functions.prescriptions import api as prescriptions

    cutoff = now - timedelta(seconds=get_settings().repair_after_seconds)
    takes: list[tuple[ObjectId, ObjectId, int]] = []
    for doc in medicines.with_pending_takes(BATCH):
        records = doc.get("takes") or {}
        if not records:
            medicines.clear_pending_flag(doc["_id"])
        takes.extend((doc["_id"], ObjectId(order), int(r["quantity"])) for order, r in records.items()
                     if _aware(r["at"]) < cutoff)
    holds = _old_holds(cutoff)
    reservations = [(rx, order) for rx, order, at in prescriptions.pending_reservations(BATCH) if _aware(at) < cutoff]
    found = orders.by_ids(sorted({o for _, o, _ in takes} | {o for _, o in reservations} | {o for _, o, _ in holds}))
    status = {order_id: str(doc["orderStatus"]) for order_id, doc in found.items()}
    out = {"stockTakesGivenBack": 0, "stockTakesSettled": 0, "reservationsReleased": 0, "reservationsSettled": 0,
           "holdsReleased": 0,
           "reportLinesRemade": _remake_report_lines([d for d in found.values() if d["orderStatus"] != CANCELLED
                                                      and _aware(d["createdAt"]) > cutoff - LINES_WINDOW])}
    for order in {o for _, o, _ in takes if status.get(o) == CANCELLED}:
        order_lines.retire(order)  # a cancel whose give-back failed may not have retired them either
    for medicine, order, qty in takes:
        state = status.get(order)
        if state is None or state == CANCELLED:
            out["stockTakesGivenBack"] += medicines.give_back_take(medicine, order, qty)
        elif state == DELIVERED:
            out["stockTakesSettled"] += medicines.settle_take(medicine, order)
    for rx, order in reservations:
        state = status.get(order)
        if state is None or state == CANCELLED:
            prescriptions.release_for_order(str(rx), order)
            out["reservationsReleased"] += 1
        elif state == DELIVERED:
            prescriptions.settle_for_order(rx, order)
            out["reservationsSettled"] += 1
    for hold, order, units in holds:  # a closed order no longer holds; an open one keeps its hold
        if status.get(order) in (None, CANCELLED, DELIVERED):
            customer, pharmacy = hold.split("|")
            out["holdsReleased"] += order_holds.release(ObjectId(customer), ObjectId(pharmacy), order, units)
    if out["stockTakesGivenBack"] or out["reservationsReleased"] or out["holdsReleased"]:
        logger.warning("order repair gave back what no live order holds", extra=out)
    return out


def _old_holds(cutoff: datetime) -> list[tuple[str, ObjectId, dict[ObjectId, int]]]:
    """Customers' hold records older than the repair limit: (hold, order, units)."""
    out: list[tuple[str, ObjectId, dict[ObjectId, int]]] = []
    for doc in order_holds.with_pending(BATCH):
        records = doc.get("orders") or {}
        if not records:
            order_holds.clear_pending_flag(doc["_id"])
        out.extend((doc["_id"], ObjectId(order), {ObjectId(m): int(q) for m, q in (r.get("units") or {}).items()})
                   for order, r in records.items() if _aware(r["at"]) < cutoff)
    return out


def _remake_report_lines(stored: list[dict[str, Any]]) -> int:
    """Orders whose report lines were never written (that step may fail after the order stood),
    among orders placed within `LINES_WINDOW` before the repair limit."""
    from functions.pharmacy.placing import report_lines

    missing = [d for d in stored if not order_lines.has_lines(d["_id"])]
    for doc in missing:
        order_lines.insert(report_lines(doc))
    return len(missing)


def _aware(at: datetime) -> datetime:
    from datetime import UTC

    return at if at.tzinfo else at.replace(tzinfo=UTC)
