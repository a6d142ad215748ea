"""The outbox's handlers of the pharmacy's effects (`effects`): each step idempotent, so the
worker may run one again after a kill; each returns the notice's message (`notifications`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from functions.core import outbox
from functions.pharmacy import cancellation, notifications
from functions.pharmacy.effects import CANCEL, CHANGED, PLACED
from functions.pharmacy.placing import report_lines
from functions.pharmacy.stores import medicines, order_lines, orders, pharmacies


def deliver_placed(payload: Mapping[str, Any]) -> Sequence[outbox.Effect]:
    order = orders.get(payload["order"])
    if order is not None:
        order_lines.insert_once(report_lines(order))
        for item in order["items"]:  # the snapshot's image outlives an edit of the medicine's images
            if (item.get("image") or {}).get("public_id"):
                medicines.remember_image(item["medicine"], str(item["image"]["public_id"]))
    pharmacy_id = payload["pharmacy"]
    pharmacies.set_counters(pharmacy_id, {"totalOrders": orders.count({"pharmacy": pharmacy_id})})
    return notifications.deliver(payload["notice"])


def deliver_changed(payload: Mapping[str, Any]) -> Sequence[outbox.Effect]:
    give_back = payload.get("giveBack")
    if give_back:
        order = orders.get(payload["order"])
        if order is not None and give_back == CANCEL:
            cancellation.after_cancel(order, str(payload.get("reason") or ""))
        elif order is not None:
            cancellation.release_hold(order)
    notice = payload.get("notice")
    return notifications.deliver(notice) if notice else []


HANDLERS: dict[str, outbox.Handler] = {PLACED: deliver_placed, CHANGED: deliver_changed,
                                       notifications.KIND: notifications.deliver}
