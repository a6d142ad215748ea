"""Telling a user about an order or their pharmacy.

Over the WebSocket when they are online, else by SMS or e-mail: both off the request path. A
use case records the notice in the outbox (`tell`, or inside its own effect, `effects`), and the
outbox's worker runs `deliver`: the push, and when no connection got it, the message it returns
for the worker to send (`core.outbox`). Bodies carry no PHI: an order number and a status, never
medicines or addresses; order messages end with a link to the existing frontend's page that
lists the order (its routes: `../shared/frontend-contract.md`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bson import ObjectId

from functions.core import outbox, users
from functions.core.config import get_settings
from functions.signaling import api as signaling

KIND = "pharmacy.notice"  # the outbox kind of `deliver`
CUSTOMER_ORDERS = "/orders"  # the customer's order tracking (GET /orders/my)
# The shop's orders are on the pharmacist's dashboard (GET /pharmacy/orders); the frontend's
# `/orders` shows the caller's own purchases only, so it would be empty for the pharmacist.
PHARMACY_ORDERS = "/pharmacist/dashboard"


def with_link(text: str, page: str) -> str:
    """`text` and the frontend's `page` (a path of APP_BASE_URL) to open."""
    return f"{text} Details: {get_settings().app_base_url.rstrip('/')}{page}"


def notice(user_id: ObjectId, subject: str, text: str, event: dict[str, Any], *, kind: str, ref: Any,
           sender: Any = None) -> dict[str, Any]:
    """A notice as the outbox stores it: pushed as `event` to the user's live connections, else
    `text` by SMS or e-mail. `sender`: the user who caused it (the daily cap is per sender and
    recipient, `core.notify`)."""
    return {"user": user_id, "subject": subject, "text": text, "event": event, "kind": kind, "ref": ref,
            "sender": sender}


def tell(user_id: ObjectId, subject: str, text: str, event: dict[str, Any], *, kind: str, ref: Any,
         sender: Any = None) -> None:
    """Record the notice (one round trip; never raises: the request that caused it stands)."""
    outbox.record(outbox.Effect(KIND, notice(user_id, subject, text, event, kind=kind, ref=ref, sender=sender),
                                ref=ref))


def deliver(payload: Mapping[str, Any]) -> Sequence[outbox.Effect]:
    """The outbox's handler of a notice: the push to the user's live connections; if none got it,
    the message to send (none when the user has no contact). A re-run after a kill may push
    again (a frame the page shows once more), never sends the message twice."""
    user_id = payload["user"]
    if signaling.push_to_user(user_id, dict(payload["event"])) > 0:
        return []
    person = users.contacts([user_id]).get(user_id)
    if not person or not person.get("contact"):
        return []
    return [outbox.message(str(person.get("contactType") or "email"), str(person["contact"]), payload["subject"],
                           payload["text"], kind=payload["kind"], ref=payload.get("ref"),
                           sender=payload.get("sender"))]
