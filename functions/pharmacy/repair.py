"""The repair sweep of orders: the backstop for what a compensation could not do.

Every stock take and prescription reservation is recorded in its own write (`takes.<order>` on
the medicine, `reservations.<order>` on the prescription). A record older than
`REPAIR_AFTER_SECONDS` (longer than any request lives) whose order was never stored, or was
cancelled, is given back (conditional on the record, so at most once, whoever else gives it back
meanwhile); the record of a delivered order is settled (forgotten, the units stay sold). Records
of orders still open stay: their cancel gives them back. Records younger than the limit belong
to requests in flight and are never touched.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bson import ObjectId

from functions.core.config import get_settings
from functions.core.observability import logger
from functions.pharmacy.status import CANCELLED, DELIVERED
from functions.pharmacy.stores import medicines, orders

BATCH = 200  # medicines and prescriptions holding records, per run


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
    reservations = [(rx, order) for rx, order, at in prescriptions.pending_reservations(BATCH) if _aware(at) < cutoff]
    status = orders.statuses(sorted({o for _, o, _ in takes} | {o for _, o in reservations}))
    out = {"stockTakesGivenBack": 0, "stockTakesSettled": 0, "reservationsReleased": 0, "reservationsSettled": 0}
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
    if out["stockTakesGivenBack"] or out["reservationsReleased"]:
        logger.warning("order repair gave back what no live order holds", extra=out)
    return out


def _aware(at: datetime) -> datetime:
    from datetime import UTC

    return at if at.tzinfo else at.replace(tzinfo=UTC)
