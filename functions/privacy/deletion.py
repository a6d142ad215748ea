"""A user deleting their own account (`POST /me/delete`, issue 24 §3).

1. The password, checked like a login attempt (`auth.api.check_password`: 422, 429).
2. Refusals with the reason (409 ACCOUNT_HAS_OBLIGATIONS, one `errors` entry per obligation): a
   doctor with an appointment not over yet; a pharmacist whose pharmacy has an order neither
   delivered nor cancelled; a patient with an order the pharmacy is preparing or delivering (past
   what the customer may cancel). The platform's last active admin is refused (409 LAST_ADMIN):
   no one could restore accounts or make another admin through the API then.
3. Failure-atomic (`core.compensation`), the two writes that decide:
   - "close account": one conditional write (`users.close_for_deletion`): deactivated, a new
     session version (every token dies), sockets marked, `deletionRequestedAt`, `eraseAfter` =
     now + DELETION_GRACE_DAYS, `closingOut` set. Of concurrent requests one closes, the others get
     409 DELETION_REQUESTED. Undo: reopen, only the closing made at this instant.
   - "audit" (`account.deletion-requested`): append-only, an entry whose write applied stays.
4. The close-out, after the block (`close_out`): the patient's appointments not started are
   cancelled (doctors told, refunds by the policy), waitlist offers declined and entries left,
   orders still cancellable cancelled (stock back, refunds); a doctor's waitlist offers withdrawn
   and the entries waiting for them ended; a pharmacist's shop closed and out of the catalogue;
   the sockets closed; then
   `closingOut` is cleared. These cannot be undone (a doctor has been told), so they run only once
   the account is closed for good, and forward: each is an idempotent conditional write, and the
   privacy sweep (`sweep`) runs the close-out again for an account still `closingOut` (a request
   that died or met a failure midway). A failure there does not fail the answer: the account is
   closed and the sweep finishes.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bson import ObjectId

from functions.appointments import api as appointments
from functions.auth import api as auth
from functions.core import audit, clock, users
from functions.core.compensation import Compensations
from functions.core.config import get_settings
from functions.core.errors import Code, Conflict
from functions.core.observability import logger
from functions.core.security import ADMIN, DOCTOR, PATIENT, PHARMACIST, Principal
from functions.pharmacy import api as pharmacy
from functions.privacy import erase
from functions.privacy.schemas import DeleteIn

SWEEP_BATCH = 50


def delete_own(principal: Principal, body: DeleteIn, source_ip: str) -> dict[str, Any]:
    """See the module's docstring; the answer's fields (`eraseAfter`, a message)."""
    auth.check_password(principal, body.password, source_ip)
    now = clock.now()
    _refuse_obligations(principal, now)
    erase_after = now + timedelta(days=get_settings().deletion_grace_days)
    with Compensations("delete account") as undo:
        undo.step("close account", lambda: auth.reopen_account(principal.id, now))
        auth.close_account(principal.id, now, erase_after)
        undo.step("audit", lambda: None)  # append-only: an entry that applied stays, recording the attempt
        audit.record(principal.user, "account.deletion-requested", "user", principal.id, subject_id=principal.id)
    try:
        close_out(principal.id, principal.role, now)
    except Exception as exc:  # closed for good: the sweep finishes the close-out
        logger.warning("Account closed, its close-out left to the sweep", extra={"error": type(exc).__name__})
    logger.info("Account deletion requested", extra={"userId": str(principal.id)})
    return {"eraseAfter": erase_after.isoformat(),
            "message": f"Your account is closed. Your personal data will be erased after "
                       f"{erase_after.date().isoformat()}; until then an administrator can restore it."}


def _refuse_obligations(principal: Principal, now: datetime) -> None:
    role, open_items = principal.role, []
    if role == DOCTOR and appointments.has_upcoming(principal.id, "doctor", now):
        open_items.append({"field": "appointments",
                           "message": "you have booked appointments not over yet: cancel or complete them first"})
    if role == PHARMACIST and pharmacy.pharmacy_has_open_orders(principal.id):
        open_items.append({"field": "orders",
                           "message": "your pharmacy has open orders: deliver or cancel them first"})
    if role == PATIENT and pharmacy.has_orders_in_progress(principal.id):
        open_items.append({"field": "orders",
                           "message": "a pharmacy is preparing or delivering an order of yours: wait for it"})
    if open_items:
        raise Conflict("The account has open obligations: " + "; ".join(i["message"] for i in open_items),
                       code=Code.ACCOUNT_HAS_OBLIGATIONS, errors=open_items)
    if role == ADMIN and users.count_active_admins() <= 1:
        raise Conflict("The last active administrator cannot delete their account", code=Code.LAST_ADMIN)


def close_out(user_id: ObjectId, role: str, now: datetime) -> None:
    """What the closing cancels (see the module's docstring); idempotent, then `closingOut` cleared."""
    if role == PATIENT:
        appointments.close_for_patient(user_id, now)
        pharmacy.cancel_open_orders(user_id)
    elif role == DOCTOR:
        appointments.close_for_doctor(user_id, now)
    elif role == PHARMACIST:
        pharmacy.close_for_owner(user_id)
    auth.end_sockets(user_id)
    users.closed_out(user_id)


def sweep(now: datetime) -> dict[str, int]:
    """The privacy domain's periodic work: close-outs a request left unfinished, then the erase
    of accounts past their grace period (`erase`)."""
    resumed = 0
    for user in users.closing_out(SWEEP_BATCH):
        close_out(user["_id"], str(user.get("role")), now)
        resumed += 1
    return {"closeOutsResumed": resumed, **erase.sweep(now)}
