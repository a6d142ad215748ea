"""What follows an order's committed write, off the request path (issue 20): one outbox Effect
per write (`core.outbox`, one round trip), built here; its handler (`effect_handlers`) does the
work the answer does not need and returns the notice's message.

- `pharmacy.order_placed`: the order's report lines (by deterministic ids, so a re-run inserts
  none twice), the pharmacy's `totalOrders` (recounted, so a re-run cannot count twice), and the
  pharmacy owner's notice.
- `pharmacy.order_changed`: a cancellation's give-backs (`cancellation.after_cancel`: the hold,
  the stock and prescription at most once each by their records, the refund), a delivered
  order's hold, and the notice.

A record that fails is logged and counted; the repair sweep (`repair`) still finds the takes of a
cancelled order and the report lines an order lacks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from functions.core import outbox

PLACED = "pharmacy.order_placed"
CHANGED = "pharmacy.order_changed"
CANCEL, HOLD = "cancel", "hold"  # what an order's change gives back: everything, or the hold alone


def placed(order: Mapping[str, Any], notice: dict[str, Any]) -> outbox.Effect:
    return outbox.Effect(PLACED, {"order": order["_id"], "pharmacy": order["pharmacy"], "notice": notice},
                         ref=order["_id"])


def changed(order: Mapping[str, Any], notice: dict[str, Any] | None, *, give_back: str | None = None,
            reason: str = "") -> outbox.Effect:
    return outbox.Effect(CHANGED, {"order": order["_id"], "giveBack": give_back, "reason": reason,
                                   "notice": notice}, ref=order["_id"])
