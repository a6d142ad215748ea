"""Telling a user about an order or their pharmacy.

Telling a user about an order or their pharmacy: over the WebSocket when they are online,
else by SMS or e-mail through the one notifier (`core.notify`). Bodies carry no PHI: an order
number and a status, never medicines or addresses; order messages end with a link to the
existing frontend's page that lists the order (its routes: `../shared/frontend-contract.md`).
"""

from __future__ import annotations

from typing import Any

from bson import ObjectId

from functions.core import notify, users
from functions.core.config import get_settings
from functions.core.observability import logger
from functions.signaling import api as signaling

CUSTOMER_ORDERS = "/orders"  # the customer's order tracking (GET /orders/my)
# The shop's orders are on the pharmacist's dashboard (GET /pharmacy/orders); the frontend's
# `/orders` shows the caller's own purchases only, so it would be empty for the pharmacist.
PHARMACY_ORDERS = "/pharmacist/dashboard"


def with_link(text: str, page: str) -> str:
    """`text` and the frontend's `page` (a path of APP_BASE_URL) to open."""
    return f"{text} Details: {get_settings().app_base_url.rstrip('/')}{page}"


def tell(user_id: ObjectId, subject: str, text: str, event: dict[str, Any], *, kind: str, ref: Any,
         sender: Any = None) -> None:
    """Push `event` to the user's live connections; if none got it, send `text`. Never raises:
    the request that caused the message has already succeeded. `sender`: the user who caused it
    (the daily cap is per sender and recipient, `core.notify.send`)."""
    try:
        if signaling.push_to_user(user_id, event) > 0:
            return
        person = users.contacts([user_id]).get(user_id)
        if person and person.get("contact"):
            notify.send(str(person.get("contactType") or "email"), str(person["contact"]), subject, text,
                        kind=kind, ref=ref, sender=sender)
    except Exception as exc:  # a lost message must not undo the order
        logger.warning("pharmacy notification failed", extra={"kind": kind, "error": type(exc).__name__})
