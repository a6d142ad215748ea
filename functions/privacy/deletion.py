"""A user's request to delete their own account (`POST /me/delete`, issue 24 §3), first cut:
refused with the reason while the account has open obligations (an appointment not over yet,
as patient or doctor; an order neither delivered nor cancelled), and for pharmacists and admins;
otherwise the account is closed at once by the auth domain (`auth.api.close_own_account`:
deactivated, every session ended, sockets closed) with its erase due after
`DELETION_GRACE_DAYS`.

The checks read before the one write (the account's): the use case writes one document after
its audit entry, so it needs no compensation."""

from __future__ import annotations

from datetime import timedelta

from functions.appointments import api as appointments
from functions.auth import api as auth
from functions.core import clock
from functions.core.config import get_settings
from functions.core.errors import Code, Conflict, Forbidden
from functions.core.security import DOCTOR, PATIENT, Principal
from functions.pharmacy import api as pharmacy
from functions.privacy.schemas import DeleteIn


def delete_own(principal: Principal, body: DeleteIn, source_ip: str) -> str:
    """See the module's docstring; the moment the erase is due."""
    if principal.role not in (PATIENT, DOCTOR):
        raise Forbidden("This account cannot be deleted by its user: ask an administrator",
                        code=Code.DELETION_NOT_AVAILABLE)
    now = clock.now()
    open_items = []
    if appointments.has_upcoming(principal.id, "doctor" if principal.role == DOCTOR else "patient", now):
        open_items.append({"field": "appointments", "message": "an appointment is not over yet: cancel it first"})
    if principal.role == PATIENT and pharmacy.has_open_orders(principal.id):
        open_items.append({"field": "orders", "message": "an order is still open: cancel it or wait for it"})
    if open_items:
        raise Conflict("The account has open obligations", code=Code.ACCOUNT_HAS_OBLIGATIONS, errors=open_items)
    erase_after = now + timedelta(days=get_settings().deletion_grace_days)
    auth.close_own_account(principal, body.password, source_ip, erase_after)
    return erase_after.isoformat()
