"""The payments domain's public seam: what the domains that sell (appointments, the pharmacy)
get from payments. They never import it, because payments imports them (to price a target and to
report its payment's outcome): each declares a port (`REFUNDS` in its `api`), and the composition
roots (`app.py` through `functions.registry`, and the handlers of those domains) call
`plug_refunds` when the Lambda starts.

Both refund in full, once, and tell the owner through the `tell` it passes when the refund goes
through at once; they call Stripe and the database only (no AWS service: a plugged function is
reachable from every route of its Lambda, see `functions.core.ports`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from bson import ObjectId

__all__ = ["appointment_cancelled", "for_export", "order_cancelled", "plug_refunds"]

Tell = Callable[[str, ObjectId, str, str], object]


def appointment_cancelled(appt: Mapping[str, Any], tell: Tell) -> str | None:
    """After a committed cancellation: a refund per the policy (in full when the doctor or an
    admin cancelled, or the patient did before the cut-off); its status, or None."""
    from functions.payments import refunds

    return refunds.appointment_cancelled(appt, tell)


def order_cancelled(order_id: ObjectId, reason: str, tell: Tell) -> str | None:
    """After a paid order is cancelled or rejected: a full refund; its status, or None."""
    from functions.payments import refunds

    return refunds.order_cancelled(order_id, reason, tell)


def plug_refunds() -> None:
    """Plug the refunds into the ports of the domains payments sells for."""
    from functions.appointments import api as appointments
    from functions.pharmacy import api as pharmacy

    appointments.REFUNDS.plug(appointment_cancelled)
    pharmacy.REFUNDS.plug(order_cancelled)


def for_export(payer_id: ObjectId, cap: int) -> list[dict[str, Any]]:
    """Up to `cap` of the payer's payment records, most recently changed first (one read): their data export."""
    from functions.payments.stores import payments

    return payments.of_payer(payer_id, cap)
